import ArgumentParser
import Foundation
import Logging
import StampedeCluster
import StampedeCore
import StampedeEngine

/// Where the cluster token comes from. Shared by `coordinator` and `worker`.
struct TokenOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Environment variable holding the cluster token.", valueName: "name"))
    var tokenEnv: String = "STAMPEDE_TOKEN"
    @Option(help: ArgumentHelp("File holding the cluster token (wins over --token-env).", valueName: "path"))
    var tokenFile: String?
    @Option(help: ArgumentHelp("Largest protocol line accepted, bytes.", valueName: "bytes"))
    var maxLineBytes: Int = WireCodec.defaultMaxLineBytes

    func token() throws -> String? {
        do { return try ClusterToken.load(envName: tokenEnv, file: tokenFile) } catch { throw CLIError("\(error)") }
    }

    mutating func validate() throws {
        guard maxLineBytes >= 1024 else { throw ValidationError("--max-line-bytes: must be at least 1024 (got \(maxLineBytes))") }
    }
}

/// How a coordinator listens for workers and watches them. Shared by `coordinator` and `sweep`.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address and port to listen on. Without a cluster token only loopback is allowed.", valueName: "host:port"))
    var bind: HostPort = HostPort(argument: "127.0.0.1:5557")!
    @Option(help: ArgumentHelp("Give up (exit 2) if the expected workers have not all joined within this time.", valueName: "duration"))
    var expectWorkersTimeout: String = "60s"
    @Option(help: "Refuse workers beyond this many.")
    var maxWorkers: Int = 256
    @Option(help: ArgumentHelp("Drop a worker after this long without a message from it.", valueName: "duration"))
    var heartbeatTimeout: String = "5s"
    @Option(help: ArgumentHelp("How often each side pings the other.", valueName: "duration"))
    var heartbeatInterval: String = "1s"

    func validate(expectWorkers: Int) throws {
        guard expectWorkers >= 1 else { throw ValidationError("--expect-workers: must be at least 1 (got \(expectWorkers))") }
        guard maxWorkers >= expectWorkers else { throw ValidationError("--max-workers: must be at least --expect-workers") }
        _ = try parseSeconds(expectWorkersTimeout, flag: "--expect-workers-timeout")
        let interval = try parseSeconds(heartbeatInterval, flag: "--heartbeat-interval")
        let timeout = try parseSeconds(heartbeatTimeout, flag: "--heartbeat-timeout")
        guard timeout > interval else { throw ValidationError("--heartbeat-timeout: must be longer than --heartbeat-interval") }
    }

    func config(token: TokenOptions) throws -> ClusterServerConfig {
        var config = ClusterServerConfig()
        config.host = bind.host
        config.port = bind.port
        config.token = try token.token()
        config.maxWorkers = maxWorkers
        config.maxLineBytes = token.maxLineBytes
        config.heartbeatInterval = try parseSeconds(heartbeatInterval, flag: "--heartbeat-interval")
        config.heartbeatTimeout = try parseSeconds(heartbeatTimeout, flag: "--heartbeat-timeout")
        return config
    }

    /// Starts listening for workers, reporting to `roster`, and says so on stderr
    /// ("stampede <command> listening on HOST:PORT; waiting for N worker(s)").
    func listen(roster: any WorkerRoster, token: TokenOptions, logger: Logger, command: String, expecting: Int) async throws -> CoordinatorServer {
        let config = try config(token: token)
        let listener: CoordinatorServer
        do { listener = try await CoordinatorServer.start(config: config, roster: roster, logger: logger) } catch { throw CLIError("\(error)") }
        FileHandle.standardError.write(Data("stampede \(command) listening on \(config.host):\(listener.port); waiting for \(expecting) worker(s)\n".utf8))
        return listener
    }

    /// Waits until `count()` reaches `expected`. On timeout or `interrupted()` it shuts the server
    /// down, prints one line and exits 2.
    func waitForWorkers(_ expected: Int, server: CoordinatorServer, count: () async -> Int, interrupted: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + (try parseSeconds(expectWorkersTimeout, flag: "--expect-workers-timeout"))
        while await count() < expected {
            let stop = await interrupted()
            if ContinuousClock.now >= deadline || stop {
                let joined = await count()
                await server.shutdown(quitWorkers: false)
                FileHandle.standardError.write(Data("error: only \(joined) of \(expected) worker(s) joined within \(expectWorkersTimeout)\n".utf8))
                throw ExitCode(2)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// `HOST:PORT`, with `[v6]:PORT` for IPv6.
struct HostPort: ExpressibleByArgument, Sendable {
    let host: String
    let port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

func parseSeconds(_ text: String, flag: String) throws -> Duration {
    do { return try DurationParsing.parse(text) } catch { throw ValidationError("\(flag): \(error)") }
}
