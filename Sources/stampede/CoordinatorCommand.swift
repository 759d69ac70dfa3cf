import ArgumentParser
import Foundation
import StampedeCluster
import StampedeEngine
import StampedeReport
import StampedeWeb

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
        start (e.g. the expected workers never came); 130 (SIGINT) or 143 (SIGTERM) interrupted, after
        the partial report and files were written. Protocol: docs/protocol.md.
        With --web and no --users, --spawn-rate, --rate or --stages, the run waits for a start from the
        dashboard (users and spawn rate), as Locust's web UI does.
        """
    )

    @Option(help: "Wait for this many workers before starting the load.")
    var expectWorkers: Int = 1
    @Flag(help: "Leave workers connected after the run instead of telling them to quit.")
    var keepWorkers = false

    @OptionGroup var configFile: ConfigOption
    @OptionGroup(title: "Listening for workers") var server: ServerOptions
    @OptionGroup(title: "Cluster token") var tokenOptions: TokenOptions
    @OptionGroup(title: "Load") var load: LoadOptions
    @OptionGroup(title: "Open loop and stages") var loadModel: LoadModelOptions
    @OptionGroup(title: "SLO and cost") var sloCost: SLOCostOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Dashboard and /metrics") var webOptions: WebOptions

    mutating func validate() throws {
        guard load.target != nil else { throw ValidationError("--target: required for a cluster run (start `stampede mock` for a simulated one)") }
        try server.validate(expectWorkers: expectWorkers)
    }

    func run() async throws {
        LogSetup.bootstrap()
        let logger = output.logger("stampede.coordinator")
        var scenario = try load.scenario(target: load.target!, collectRecords: output.settings.needsRecords)
        try loadModel.apply(to: &scenario)
        try sloCost.apply(to: &scenario)
        do { try scenario.validate() } catch { throw ValidationError(error.description) }
        var settings = output.settings
        settings.showWorkers = true
        let preset = load.presetUsers || loadModel.rate != nil || loadModel.stages != nil
        var web = try webOptions.settings(token: webOptions.web == nil ? nil : try tokenOptions.token(), waitForStart: !preset)
            .map(WebSession.init)
        let outputs: RunOutputs
        do { outputs = try RunOutputs(settings: settings, extra: web.map { [$0.output] } ?? []) } catch { throw CLIError("\(error)") }
        var options = CoordinatorOptions()
        options.snapshots = web != nil
        let coordinator = RunCoordinator(scenario: scenario, options: options, logger: logger, onEvent: outputs.publish)
        let listener = try await server.listen(roster: coordinator, token: tokenOptions, logger: logger, command: "coordinator",
                                               expecting: expectWorkers)
        try await web?.start(coordinator: coordinator, logger: output.logger("stampede.web"))
        let session = web
        let trap = await SignalTrap {
            session?.interrupted()
            Task { await coordinator.requestStop(.interrupted) }
        }
        defer { trap.cancel() }

        do {
            try await server.waitForWorkers(expectWorkers, server: listener, count: { await coordinator.workerCount },
                                            interrupted: { await coordinator.isStopRequested })
        } catch {
            if let interrupted = trap.exitCode { throw ExitCode(interrupted) }
            throw error
        }
        if let control = web?.control, web?.settings.waitForStart == true {
            await control.waitForStart()
        }
        let result = await coordinator.run()
        let interruptedDuringRun = trap.exitCode
        await listener.shutdown(quitWorkers: !keepWorkers)
        var finishError: (any Error)?
        do { try await outputs.finish() } catch { finishError = error }
        await web?.lingerAndStop(interruptedDuringRun: interruptedDuringRun != nil)
        if let finishError { throw CLIError("\(finishError)") }
        if let interrupted = interruptedDuringRun { throw ExitCode(interrupted) }
        let code = outputs.exitCode(result)
        if code != 0 { throw ExitCode(code) }
    }
}
