import ArgumentParser
import Foundation
import Logging
import StampedeCluster
import StampedeMock

struct MockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock",
        abstract: "Serve a simulated LLM engine (OpenAI chat/completions and TGI) for tests and demos.",
        discussion: """
        By default it models a Llama-2-70B-like engine with continuous batching: about 0.5 ms of prefill per
        input token and 45 ms per decode step at low load, up to --max-batch sequences per step, FIFO queueing
        beyond that. So latency grows with load and queueing appears past saturation.
        With --ttft-ms and --itl-ms it answers with exact fixed delays instead (for tests).
        Endpoints: POST /v1/chat/completions, /v1/completions, /generate_stream; GET /health, /v1/models, /stats.
        """
    )

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one and prints it).")
    var port: Int = 8000
    @OptionGroup var configFile: ConfigOption
    @OptionGroup(title: "Simulation") var mock: MockOptions
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    mutating func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: must be between 0 and 65535 (got \(port))") }
    }

    func run() async throws {
        LogSetup.bootstrap()
        var logger = Logger(label: "stampede.mock")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        do {
            try await MockServer.serve(config: mock.config, host: host, port: port, logger: logger) { bound in
                FileHandle.standardOutput.write(Data("stampede mock listening on http://\(host):\(bound)\n".utf8))
            }
        } catch {
            throw CLIError("cannot serve on \(host):\(port): \(SocketErrorText.describe(error))")
        }
    }
}
