import ArgumentParser
import Foundation
import StampedeCluster
import StampedeEngine
import StampedeReport

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Coordinate a benchmark run by `stampede worker` processes over TCP.",
        discussion: """
        Waits for --expect-workers workers, splits --users over them evenly (10 over 3 is 4/3/3) with the
        global --spawn-rate shared in proportion, merges their histograms exactly and prints the same report
        as `run`, plus a per-worker table. Workers that join later get a share; a worker silent for
        --heartbeat-timeout is dropped, its stats kept and its users given to the others.
        Exit code: 0 ok; 1 error rate above --max-error-rate or every worker lost; 2 the run could not
        start (e.g. the expected workers never came). Protocol: docs/protocol.md.
        """
    )

    @Option(help: ArgumentHelp("Address and port to listen on. Without a cluster token only loopback is allowed.", valueName: "host:port"))
    var bind: HostPort = HostPort(argument: "127.0.0.1:5557")!
    @Option(help: "Wait for this many workers before starting the load.")
    var expectWorkers: Int = 1
    @Option(help: ArgumentHelp("Give up (exit 2) if the expected workers have not all joined within this time.", valueName: "duration"))
    var expectWorkersTimeout: String = "60s"
    @Option(help: "Refuse workers beyond this many.")
    var maxWorkers: Int = 256
    @Option(help: ArgumentHelp("Drop a worker after this long without a message from it.", valueName: "duration"))
    var heartbeatTimeout: String = "5s"
    @Option(help: ArgumentHelp("How often each side pings the other.", valueName: "duration"))
    var heartbeatInterval: String = "1s"
    @Flag(help: "Leave workers connected after the run instead of telling them to quit.")
    var keepWorkers = false

    @OptionGroup(title: "Cluster token") var tokenOptions: TokenOptions
    @OptionGroup(title: "Load") var load: LoadOptions
    @OptionGroup(title: "Open loop and stages") var loadModel: LoadModelOptions
    @OptionGroup(title: "SLO and cost") var sloCost: SLOCostOptions
    @OptionGroup(title: "Output") var output: OutputOptions

    mutating func validate() throws {
        guard load.target != nil else { throw ValidationError("--target: required for a cluster run (start `stampede mock` for a simulated one)") }
        guard expectWorkers >= 1 else { throw ValidationError("--expect-workers: must be at least 1 (got \(expectWorkers))") }
        guard maxWorkers >= expectWorkers else { throw ValidationError("--max-workers: must be at least --expect-workers") }
        _ = try parseSeconds(expectWorkersTimeout, flag: "--expect-workers-timeout")
        let interval = try parseSeconds(heartbeatInterval, flag: "--heartbeat-interval")
        let timeout = try parseSeconds(heartbeatTimeout, flag: "--heartbeat-timeout")
        guard timeout > interval else { throw ValidationError("--heartbeat-timeout: must be longer than --heartbeat-interval") }
    }

    func run() async throws {
        LogSetup.bootstrap()
        let logger = output.logger("stampede.coordinator")
        var scenario = try load.scenario(target: load.target!, collectRecords: output.settings.needsRecords)
        try loadModel.apply(to: &scenario)
        try sloCost.apply(to: &scenario)
        do { try scenario.validate() } catch { throw ValidationError(error.description) }
        let outputs: RunOutputs
        do { outputs = try RunOutputs(settings: output.settings) } catch { throw CLIError("\(error)") }
        var config = ClusterServerConfig()
        config.host = bind.host
        config.port = bind.port
        config.token = try tokenOptions.token()
        config.maxWorkers = maxWorkers
        config.maxLineBytes = tokenOptions.maxLineBytes
        config.heartbeatInterval = try parseSeconds(heartbeatInterval, flag: "--heartbeat-interval")
        config.heartbeatTimeout = try parseSeconds(heartbeatTimeout, flag: "--heartbeat-timeout")

        let coordinator = RunCoordinator(scenario: scenario, logger: logger, onLive: { outputs.live($0) }, onRecords: { outputs.records($0) })
        let server: CoordinatorServer
        do { server = try await CoordinatorServer.start(config: config, coordinator: coordinator, logger: logger) } catch {
            throw CLIError("\(error)")
        }
        FileHandle.standardError.write(Data("stampede coordinator listening on \(bind.host):\(server.port); waiting for \(expectWorkers) worker(s)\n".utf8))
        let trap = SignalTrap { Task { await coordinator.requestStop(.interrupted) } }
        defer { trap.cancel() }

        let deadline = ContinuousClock.now + (try parseSeconds(expectWorkersTimeout, flag: "--expect-workers-timeout"))
        while await coordinator.workerCount < expectWorkers {
            let interrupted = await coordinator.isStopRequested
            if ContinuousClock.now >= deadline || interrupted {
                let joined = await coordinator.workerCount
                await server.shutdown(quitWorkers: false)
                FileHandle.standardError.write(Data("error: only \(joined) of \(expectWorkers) worker(s) joined within \(expectWorkersTimeout)\n".utf8))
                throw ExitCode(2)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let result = await coordinator.decorate(await coordinator.run())
        await server.shutdown(quitWorkers: !keepWorkers)
        do { try outputs.finish(result, showWorkers: true) } catch { throw CLIError("\(error)") }
        let code = outputs.exitCode(result)
        if code != 0 { throw ExitCode(code) }
    }
}
