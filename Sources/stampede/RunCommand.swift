import ArgumentParser
import Foundation
import StampedeCore
import StampedeEngine
import StampedeMock
import StampedeReport
import StampedeCluster
import StampedeWeb

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a benchmark from this machine: a coordinator with one in-process worker.",
        discussion: """
        Without --target, `run` starts the built-in simulated server on a free loopback port and
        benchmarks it, so it works on a fresh machine with no model server.
        The run stops at --run-time, at --max-requests, or on Ctrl-C, and prints a report whose every
        metric names its formula. Exit code: 0 ok; 1 error rate above --max-error-rate or an --slo clause
        failed; 2 the run could not be carried out (no request finished); 130 (SIGINT, Ctrl-C) or 143
        (SIGTERM) interrupted, after the partial report and files were written.
        """
    )

    @OptionGroup var configFile: ConfigOption
    @OptionGroup(title: "Load") var load: LoadOptions
    @OptionGroup(title: "Open loop and stages") var loadModel: LoadModelOptions
    @OptionGroup(title: "SLO and cost") var sloCost: SLOCostOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Dashboard and /metrics") var webOptions: WebOptions
    @Option(help: ArgumentHelp("With --web off loopback: environment variable holding the cluster token the dashboard asks for.", valueName: "name"))
    var tokenEnv: String = "STAMPEDE_TOKEN"
    @Option(help: ArgumentHelp("With --web off loopback: file holding the cluster token (wins over --token-env).", valueName: "path"))
    var tokenFile: String?
    @OptionGroup(title: "Built-in simulated server (used when --target is omitted)") var mock: MockOptions

    func run() async throws {
        LogSetup.bootstrap()
        let logger = output.logger("stampede.run")
        // Checked before anything starts: off loopback without a token is refused here.
        var web = try webOptions.settings(token: webOptions.web == nil ? nil : try webToken(), waitForStart: false).map(WebSession.init)
        var embedded: RunningMock?
        let target: String
        if let given = load.target {
            target = given
        } else {
            do {
                embedded = try await MockServer.start(config: mock.config, logger: output.logger("stampede.mock"))
            } catch {
                throw CLIError("cannot start the built-in simulated server: \(error)")
            }
            target = embedded!.baseURL
            FileHandle.standardError.write(Data("no --target: benchmarking the built-in simulated server at \(target)\n".utf8))
        }
        var scenario = try load.scenario(target: target, collectRecords: output.settings.needsRecords)
        try loadModel.apply(to: &scenario)
        try sloCost.apply(to: &scenario)
        do { try scenario.validate() } catch { throw ValidationError(error.description) }
        let outputs: RunOutputs
        do { outputs = try RunOutputs(settings: output.settings, extra: web.map { [$0.output] } ?? []) } catch { throw CLIError("\(error)") }

        // Every stream holds a descriptor (two with the built-in server): raise the limit, and say so now if it is short.
        let perConnection = embedded == nil ? 1 : 2
        let fileLimit = OpenFileLimit.raise()
        if let line = OpenFileLimit.shortfall(users: scenario.peakConcurrency.saturatingMultiply(perConnection), limit: fileLimit) {
            FileHandle.standardError.write(Data("warning: \(line)\n".utf8))
        }
        let connections = min(max(scenario.peakConcurrency, 8), OpenFileLimit.connectionBudget(limit: fileLimit, perConnection: perConnection) ?? .max)
        let executor = ClientExecutor(scenario: scenario, maxConnections: connections)
        var options = CoordinatorOptions()
        options.snapshots = web != nil
        let coordinator = RunCoordinator(scenario: scenario, options: options, logger: logger, onEvent: outputs.publish)
        await coordinator.add(LocalWorkerLink(executor: executor))
        try await web?.start(coordinator: coordinator, logger: output.logger("stampede.web"))
        let session = web
        let trap = await SignalTrap {
            session?.interrupted()
            Task { await coordinator.requestStop(.interrupted) }
        }
        let result = await coordinator.run()
        let interruptedDuringRun = trap.exitCode
        var finishError: (any Error)?
        do { try await outputs.finish() } catch { finishError = error }
        // The report is out; a connection attempt still pending does not hold the exit past a second
        // (the pending shutdown keeps the client alive until the process exits).
        await awaitAtMost(.seconds(1)) { await executor.shutdown() }
        await web?.lingerAndStop(interruptedDuringRun: interruptedDuringRun != nil)
        trap.cancel()
        await embedded?.stop()
        if let finishError { throw CLIError("\(finishError)") }
        if let interrupted = interruptedDuringRun { throw ExitCode(interrupted) }
        let code = outputs.exitCode(result)
        if code != 0 { throw ExitCode(code) }
    }

    func webToken() throws -> String? {
        do { return try ClusterToken.load(envName: tokenEnv, file: tokenFile) } catch { throw CLIError("\(error)") }
    }
}
