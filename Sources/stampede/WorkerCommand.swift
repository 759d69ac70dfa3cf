import ArgumentParser
import Foundation
import StampedeCluster
import StampedeCore
import StampedeEngine

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Generate load for a `stampede coordinator`.",
        discussion: """
        Connects to the coordinator (retrying with exponential backoff), runs the users it is assigned
        and sends 1-second stats deltas. If the coordinator goes silent or the connection drops, all load
        stops at once and the worker reconnects, ready for the next run. It exits when the coordinator
        says quit. The API key is read from this worker's environment (the scenario's --api-key-env).
        """
    )

    @Option(help: ArgumentHelp("The coordinator's address.", valueName: "host:port"))
    var coordinator: HostPort
    @Option(help: "This worker's id (default: hostname-pid-<6 random hex digits>). Must be unique in the cluster.")
    var name: String?
    @Option(help: "Give up after this many failed connection attempts in a row (default: keep trying).")
    var maxConnectAttempts: Int?
    @OptionGroup var configFile: ConfigOption
    @OptionGroup(title: "Cluster token") var tokenOptions: TokenOptions
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    mutating func validate() throws {
        if let name, name.isEmpty || name.count > 128 || name.contains(where: { $0.isWhitespace }) {
            throw ValidationError("--name: 1-128 characters without spaces")
        }
        if let maxConnectAttempts, maxConnectAttempts < 1 { throw ValidationError("--max-connect-attempts: must be at least 1") }
    }

    func run() async throws {
        LogSetup.bootstrap()
        var logger = Logger(label: "stampede.worker")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let id = name ?? Self.defaultId()
        var config = WorkerAgentConfig(host: coordinator.host, port: coordinator.port, workerId: id, token: try tokenOptions.token())
        config.maxLineBytes = tokenOptions.maxLineBytes
        config.maxConnectAttempts = maxConnectAttempts
        let agent = WorkerAgent(config: config, logger: logger) { scenario in
            let connections = min(max(scenario.peakConcurrency, 8), OpenFileLimit.connectionBudget(limit: OpenFileLimit.raise()) ?? .max)
            let executor = ClientExecutor(scenario: scenario, maxConnections: connections)
            return (executor, { await executor.shutdown() })
        }
        let task = Task { try await agent.run() }
        let trap = await SignalTrap { task.cancel() }
        defer { trap.cancel() }
        do { try await task.value } catch is CancellationError {
            return
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// `hostname-pid-xxxxxx`. Hostname and pid alone are not unique: containers on the host network
    /// share the host's hostname, and each one's first process is often pid 1 or the same pid, so
    /// replicas would collide ("duplicate worker id"). Six random hex digits (24 bits) make that
    /// unlikely. Made once per process, so a worker keeps its id across reconnects.
    static func defaultId() -> String {
        var generator = SystemRandomNumberGenerator()
        let suffix = String(UInt32.random(in: 0..<(1 << 24), using: &generator), radix: 16)
        let padded = String(repeating: "0", count: 6 - suffix.count) + suffix
        return "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(padded)"
    }
}

import Logging
