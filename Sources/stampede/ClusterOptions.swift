import ArgumentParser
import Foundation
import StampedeCluster
import StampedeCore

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
