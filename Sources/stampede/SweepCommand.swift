import ArgumentParser
import Foundation
import Logging
import StampedeClient
import StampedeCore
import StampedeEngine
import StampedeMock
import StampedeReport
import Synchronization

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Find the knee: best latency at 1 user, then raise the load ×2 until latency or errors blow up.",
        discussion: """
        Step 1 runs 1 user for the best latency. Then the load doubles (users, or with --by rate the open-loop
        rate, starting at twice the 1-user throughput) until a step is past the knee: p50 E2E above
        --knee-factor times the 1-user value, an error rate above --max-error-rate, or a failed --slo.
        Then it bisects (--refinements times) between the last good and the first bad step.
        Each step holds its load for --warmup (not counted) and --step-time (measured) and reports users or
        rate, req/s, TTFT/ITL/E2E p50 and p95, output tokens/s and errors. At the end it prints the answers:
        best latency at 1 user, the largest req/s before the knee, and the largest req/s within the SLO.
        Steps run in this process (a coordinator with one in-process worker); without --target the
        built-in simulated server is started, as in `run`. Exit code: 0 ok; 2 the 1-user step failed.
        """
    )

    @Option(help: ArgumentHelp("What to raise: users (closed loop) or rate (open loop).", valueName: "axis"))
    var by: SweepAxis = .users
    @Option(help: ArgumentHelp("Measured time of each step.", valueName: "duration"))
    var stepTime: String = "30s"
    @Option(help: ArgumentHelp("Time at each step's load before measuring (its requests are not counted).", valueName: "duration"))
    var warmup: String = "5s"
    @Option(help: ArgumentHelp("The knee: p50 E2E above this times the 1-user p50 E2E.", valueName: "factor"))
    var kneeFactor: Double = 1.5
    @Option(help: ArgumentHelp("A step with a larger share of failed requests is past the knee (0 to 1).", valueName: "fraction"))
    var maxErrorRate: Double = 0.05
    @Option(help: "Bisection steps between the last good and the first bad step.")
    var refinements: Int = 2
    @Option(help: "At most this many steps in all.")
    var maxSteps: Int = 16
    @Option(help: "Stop raising users past this many (no knee found).")
    var maxUsers: Int = 4096
    @Option(help: ArgumentHelp("Stop raising the rate past this (no knee found).", valueName: "req/s"))
    var maxRate: Double = 100_000
    @Option(help: ArgumentHelp("With --by rate: gaps between arrivals (constant, poisson or gamma).", valueName: "process"))
    var arrival: ArrivalProcess = .poisson
    @Option(help: ArgumentHelp("With --by rate and --arrival gamma: the gamma shape (1 is Poisson).", valueName: "shape"))
    var burstiness: Double = 1
    @Option(help: ArgumentHelp("With --by rate: at most this many requests in flight; arrivals beyond are dropped.", valueName: "n"))
    var maxConcurrency: Int?

    @Option(help: ArgumentHelp("Write the steps and the answers as JSON.", valueName: "path"))
    var json: String?
    @Flag(help: "No line per step while the sweep runs.")
    var quiet = false
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "warning"

    @OptionGroup(title: "Load (--users, --run-time and --max-requests are set per step)") var load: LoadOptions
    @OptionGroup(title: "SLO and cost") var sloCost: SLOCostOptions
    @OptionGroup(title: "Built-in simulated server (used when --target is omitted)") var mock: MockOptions

    var settings: SweepSettings {
        get throws {
            var settings = SweepSettings()
            settings.axis = by
            settings.stepSeconds = try parseSeconds(stepTime, flag: "--step-time").seconds
            settings.warmupSeconds = try parseSeconds(warmup, flag: "--warmup").seconds
            settings.kneeFactor = kneeFactor
            settings.maxErrorRate = maxErrorRate
            settings.refinements = refinements
            settings.maxSteps = maxSteps
            settings.maxUsers = maxUsers
            settings.maxRate = maxRate
            do { try settings.validate() } catch { throw ValidationError(error.description) }
            return settings
        }
    }

    mutating func validate() throws {
        _ = try settings
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: '\(logLevel)' is not a log level") }
        if load.maxRequests != nil { throw ValidationError("--max-requests: a sweep sets each step's length with --step-time") }
        if load.runTime != nil { throw ValidationError("--run-time: a sweep sets each step's length with --step-time and --warmup") }
        if by == .users, arrival != .poisson || burstiness != 1 || maxConcurrency != nil {
            throw ValidationError("--arrival, --burstiness and --max-concurrency apply to --by rate")
        }
        if by == .rate {
            do { try OpenLoop(rate: 1, arrival: arrival, burstiness: burstiness, maxConcurrency: maxConcurrency).validate() } catch {
                throw ValidationError(error.description)
            }
        }
    }

    func run() async throws {
        LogSetup.bootstrap()
        var logger = Logger(label: "stampede.sweep")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let settings = try self.settings
        var embedded: RunningMock?
        let target: String
        if let given = load.target {
            target = given
        } else {
            var mockLogger = Logger(label: "stampede.mock")
            mockLogger.logLevel = logger.logLevel
            do { embedded = try await MockServer.start(config: mock.config, logger: mockLogger) } catch {
                throw CLIError("cannot start the built-in simulated server: \(error)")
            }
            target = embedded!.baseURL
            FileHandle.standardError.write(Data("no --target: sweeping the built-in simulated server at \(target)\n".utf8))
        }
        var scenario = try load.scenario(target: target, collectRecords: false)
        if by == .rate { scenario.openLoop = OpenLoop(rate: 1, arrival: arrival, burstiness: burstiness, maxConcurrency: maxConcurrency) }
        try sloCost.apply(to: &scenario)
        do { try scenario.validate() } catch { throw ValidationError(error.description) }

        let client = StreamingClient(config: ClientConfig(
            baseURL: scenario.target, api: scenario.api, model: scenario.model,
            apiKey: ProcessInfo.processInfo.environment[scenario.apiKeyEnv], extraBody: scenario.extraBody,
            requestTimeout: .seconds(scenario.requestTimeoutSeconds),
            maxConnections: by == .users ? min(settings.maxUsers, 4096) : maxConcurrency ?? 1024))
        let control = SweepControl()
        let trap = SignalTrap { control.interrupt() }
        let quiet = self.quiet
        let stepLogger = logger
        let result = await Sweep.run(base: scenario, settings: settings, isCancelled: { control.isInterrupted }, onStep: { step in
            if !quiet { FileHandle.standardError.write(Data((SweepReport.stepLine(step) + "\n").utf8)) }
        }, runStep: { stepScenario in
            let coordinator = RunCoordinator(scenario: stepScenario, logger: stepLogger)
            await coordinator.add(LocalWorkerLink(executor: client))
            await control.begin(coordinator)
            return await coordinator.run()
        })
        trap.cancel()
        try? await client.shutdown()
        await embedded?.stop()
        print(SweepReport.render(result), terminator: "")
        if let json {
            do { try SweepReport.write(result, to: json) } catch { throw CLIError("\(error)") }
            print("wrote \(json)")
        }
        if result.stoppedBy == "baseline_failed" { throw ExitCode(2) }
    }
}

/// The sweep's interrupt state: Ctrl-C stops the current step and the sweep.
final class SweepControl: Sendable {
    private let state = Mutex<(current: RunCoordinator?, interrupted: Bool)>((nil, false))

    var isInterrupted: Bool { state.withLock { $0.interrupted } }

    func interrupt() {
        let current = state.withLock { s in
            s.interrupted = true
            return s.current
        }
        if let current { Task { await current.requestStop(.interrupted) } }
    }

    /// Makes `coordinator` the current step; stops it at once when the sweep was interrupted.
    func begin(_ coordinator: RunCoordinator) async {
        let interrupted = state.withLock { s in
            s.current = coordinator
            return s.interrupted
        }
        if interrupted { await coordinator.requestStop(.interrupted) }
    }
}

extension SweepAxis: ExpressibleByArgument {}
