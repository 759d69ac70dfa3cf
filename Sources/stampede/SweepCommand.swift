import ArgumentParser
import Foundation
import Logging
import StampedeCluster
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
        Each step is one coordinator run. By default it runs in this process (one in-process worker; without
        --target the built-in simulated server is started, as in `run`). With --expect-workers N it listens
        like `stampede coordinator` and runs every step on N `stampede worker` processes, their load split
        and their histograms merged as in a cluster run.
        Exit code: 0 ok; 2 the 1-user step failed, or the expected workers never came; 130 (SIGINT) or 143
        (SIGTERM) interrupted, after the steps so far were printed and written.
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
    @Option(help: ArgumentHelp("Write a self-contained HTML report: req/s and latency against the load, the knee marked.", valueName: "path"))
    var html: String?
    @Option(help: ArgumentHelp("Write Locust's CSV files (PREFIX_stats.csv, _stats_history.csv, _failures.csv, _exceptions.csv): a stats row per step.",
                               valueName: "prefix"))
    var csv: String?
    @Flag(help: "No line per step while the sweep runs.")
    var quiet = false
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "warning"

    @Option(help: ArgumentHelp("Run the steps on this many `stampede worker` processes that connect to --bind (0: in this process).", valueName: "n"))
    var expectWorkers: Int = 0
    @Flag(help: "With --expect-workers: leave workers connected after the sweep instead of telling them to quit.")
    var keepWorkers = false

    @OptionGroup var configFile: ConfigOption
    @OptionGroup(title: "Load (--users, --run-time and --max-requests are set per step)") var load: LoadOptions
    @OptionGroup(title: "SLO and cost") var sloCost: SLOCostOptions
    @OptionGroup(title: "Built-in simulated server (used when --target is omitted)") var mock: MockOptions
    @OptionGroup(title: "Cluster (with --expect-workers)") var server: ServerOptions
    @OptionGroup(title: "Cluster token (with --expect-workers)") var tokenOptions: TokenOptions

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
        let settings = try self.settings
        // Each step is a scenario: its users, rate and length must pass Scenario.validate too, and
        // doubling up to the limits must not overflow.
        if maxUsers > Scenario.Limits.users { throw ValidationError("--max-users: must be at most \(Scenario.Limits.users) (got \(maxUsers))") }
        if maxRate > Scenario.Limits.rate { throw ValidationError("--max-rate: must be at most \(Int(Scenario.Limits.rate)) req/s (got \(maxRate))") }
        if settings.stepSeconds + settings.warmupSeconds > Scenario.Limits.durationSeconds {
            throw ValidationError("--step-time: with --warmup, at most \(Int(Scenario.Limits.durationSeconds / 86_400)) days")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: '\(logLevel)' is not a log level") }
        if expectWorkers < 0 { throw ValidationError("--expect-workers: must not be negative (got \(expectWorkers))") }
        if expectWorkers > 0 {
            try server.validate(expectWorkers: expectWorkers)
            guard load.target != nil else {
                throw ValidationError("--target: required with --expect-workers (start `stampede mock` for a simulated one)")
            }
        }
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

        let control = SweepControl()
        let trap = await SignalTrap { control.interrupt() }
        defer { trap.cancel() }
        let workers: StepWorkers
        do {
            workers = expectWorkers > 0
                ? try await .cluster(expect: expectWorkers, server: server, token: tokenOptions, control: control, logger: logger)
                : .local(scenario: scenario, settings: settings, maxConcurrency: maxConcurrency)
        } catch {
            await embedded?.stop()
            if let interrupted = trap.exitCode { throw ExitCode(interrupted) }
            throw error
        }
        let quiet = self.quiet
        let stepLogger = logger
        // Each step's results, in step order (the CSV files have a row per step).
        let stepRuns = Mutex<[RunResult]>([])
        let keepRuns = csv != nil
        let result = await Sweep.run(base: scenario, settings: settings, isCancelled: { control.isInterrupted }, onStep: { step in
            if !quiet { FileHandle.standardError.write(Data((SweepReport.stepLine(step) + "\n").utf8)) }
        }, runStep: { stepScenario in
            let coordinator = RunCoordinator(scenario: stepScenario, logger: stepLogger)
            await control.begin(coordinator)
            let run = await workers.run(coordinator, control: control)
            if keepRuns { stepRuns.withLock { $0.append(run) } }
            return run
        })
        await workers.shutdown(quitWorkers: !keepWorkers)
        await embedded?.stop()
        if let why = control.abortReason { FileHandle.standardError.write(Data("sweep stopped: \(why)\n".utf8)) }
        print(SweepReport.render(result), terminator: "")
        if let json {
            do { try SweepReport.write(result, to: json) } catch { throw CLIError("\(error)") }
            print("wrote \(json)")
        }
        if let html {
            do { try HTMLSweepReport.write(result, to: html) } catch { throw CLIError("\(error)") }
            print("wrote \(html)")
        }
        if let csv {
            let paths: [String]
            do { paths = try LocustCSV.write(result, runs: stepRuns.withLock { $0 }, prefix: csv) } catch { throw CLIError("\(error)") }
            for path in paths { print("wrote \(path)") }
        }
        if let interrupted = trap.exitCode { throw ExitCode(interrupted) }
        if result.stoppedBy == "baseline_failed" { throw ExitCode(2) }
    }
}

/// The sweep's interrupt state: Ctrl-C (or losing every worker) stops the current step and the sweep.
final class SweepControl: Sendable {
    private let state = Mutex<(current: RunCoordinator?, interrupted: Bool, reason: String?)>((nil, false, nil))

    var isInterrupted: Bool { state.withLock { $0.interrupted } }
    /// Why the sweep was stopped, when it was not by Ctrl-C.
    var abortReason: String? { state.withLock { $0.reason } }

    func interrupt(reason: String? = nil) {
        let current = state.withLock { s in
            s.interrupted = true
            if s.reason == nil { s.reason = reason }
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

/// Where a sweep's steps run: one in-process worker, or the workers connected to a listening server.
enum StepWorkers: Sendable {
    case inProcess(ClientExecutor)
    case remote(CoordinatorServer, WorkerPool)

    static func local(scenario: Scenario, settings: SweepSettings, maxConcurrency: Int?) -> StepWorkers {
        .inProcess(ClientExecutor(scenario: scenario,
                                  maxConnections: settings.axis == .users ? min(settings.maxUsers, 4096) : maxConcurrency ?? 1024))
    }

    /// Listens for workers (as `stampede coordinator` does) and waits for `expect` of them.
    static func cluster(expect: Int, server: ServerOptions, token: TokenOptions, control: SweepControl, logger: Logger) async throws -> StepWorkers {
        let pool = WorkerPool()
        let listener = try await server.listen(roster: pool, token: token, logger: logger, command: "sweep", expecting: expect)
        try await server.waitForWorkers(expect, server: listener, count: { await pool.count }, interrupted: { control.isInterrupted })
        return .remote(listener, pool)
    }

    /// Runs one step on these workers.
    func run(_ coordinator: RunCoordinator, control: SweepControl) async -> RunResult {
        switch self {
        case .inProcess(let executor):
            await coordinator.add(LocalWorkerLink(executor: executor))
            return await coordinator.run()
        case .remote(_, let pool):
            await pool.attach(coordinator)
            let result = await coordinator.run()
            await pool.detach()
            if result.stopReason == .allWorkersLost || result.stopReason == .startFailed {
                control.interrupt(reason: "no worker left (\(result.stopReason.rawValue))")
            }
            return result
        }
    }

    func shutdown(quitWorkers: Bool) async {
        switch self {
        case .inProcess(let executor): await executor.shutdown()
        case .remote(let listener, _): await listener.shutdown(quitWorkers: quitWorkers)
        }
    }
}

extension SweepAxis: ExpressibleByArgument {}
