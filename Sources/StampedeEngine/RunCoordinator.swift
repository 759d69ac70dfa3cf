import Foundation
import Logging
import StampedeCore
import StampedeMetrics

public struct CoordinatorOptions: Sendable {
    public var intervalNs: Int64 = 1_000_000_000
    /// How long `stop` waits for a worker's final delta before giving up on it.
    public var stopTimeout: Duration = .seconds(15)
    /// Open loop: a new arrival partition (a worker joined or was lost) takes effect this long after the
    /// coordinator decides it, so that every worker has it before it applies.
    public var arrivalHandover: Duration = .milliseconds(500)
    /// The live line shows an interval this long after its end, so that late deltas are in it.
    public var liveLag: Duration = .milliseconds(300)
    /// The clock the run is timed and scheduled on (a test clock in tests).
    public var clock: any EngineClock = .continuous
    /// When a worker's load generator counts as the bottleneck.
    public var saturation = SaturationPolicy()
    /// Whether each `.interval` event carries the results so far (`IntervalUpdate.snapshot`): only live
    /// views need them, and they cost a summary of every merged histogram per interval.
    public var snapshots = false

    public init() {}
}

/// The aggregator side of the engine: drives a `CoordinatorMachine` (shares, stop conditions, merging)
/// over `WorkerLink`s, transport-agnostic. A thin driver: it performs the machine's actions and
/// sleeps until the machine's next deadline or until an event wakes it (a stop, a worker lost, a
/// delta that spent the last budget): no polling.
public actor RunCoordinator: DeltaSink {
    let options: CoordinatorOptions
    let logger: Logger
    /// Where the run's events go (`RunEventHub.publish`, or a test's collector). Called on the actor,
    /// so events arrive in order; it must not block.
    let onEvent: @Sendable (RunEvent) -> Void
    let clock: any EngineClock

    private var machine: CoordinatorMachine
    private var links: [String: any WorkerLink] = [:]
    /// Run-clock zero on `clock` (nil before the run).
    private var epochNs: Int64?
    private let wakeup = Wakeup()
    private var runId = ""
    private var startedAt = ""

    public init(scenario: Scenario, options: CoordinatorOptions = CoordinatorOptions(), logger: Logger = Logger(label: "stampede.coordinator"),
                onEvent: @escaping @Sendable (RunEvent) -> Void = { _ in }) {
        self.options = options
        self.logger = logger
        self.onEvent = onEvent
        self.clock = options.clock
        self.machine = Self.machine(scenario, options)
    }

    private static func machine(_ scenario: Scenario, _ options: CoordinatorOptions) -> CoordinatorMachine {
        CoordinatorMachine(scenario: scenario, intervalNs: options.intervalNs,
                           arrivalHandoverNs: options.arrivalHandover.nanoseconds, liveLagNs: options.liveLag.nanoseconds,
                           saturation: options.saturation)
    }

    /// Before the run: replaces its scenario (a start asked for from the dashboard, with its own users
    /// and spawn rate). The workers added so far stay. Throws the scenario's validation error.
    public func replaceScenario(_ scenario: Scenario) throws(ScenarioError) {
        guard !machine.started else { throw ScenarioError(flag: "start", message: "the run has already started") }
        try scenario.validate()
        let order = machine.joinOrder
        machine = Self.machine(scenario, options)
        for id in order { _ = machine.add(id, atNs: 0) }
    }

    /// During the run: the total users (closed loop) or the arrival rate (open loop) change, as a new
    /// stage, shared over the live workers at once (see `CoordinatorMachine.changeLoad`).
    public func changeLoad(users: Int? = nil, rate: Double? = nil) async throws(CoordinatorMachine.LoadChangeRefusal) {
        let actions = try machine.changeLoad(users: users, rate: rate, atNs: runClockNs).get()
        logger.info("load changed", metadata: users.map { ["users": "\($0)"] } ?? ["rate": "\(rate ?? 0)"])
        wakeup.signal()
        await perform(actions)
    }

    public var scenario: Scenario { machine.scenario }
    public var workerCount: Int { machine.workerCount }
    public var liveWorkers: [String] { machine.liveWorkers }
    public var isRunning: Bool { machine.isRunning }
    public var isStopRequested: Bool { machine.stopReason != nil }

    /// Nanoseconds on the run clock now (0 before the run starts).
    public var runClockNs: Int64 { epochNs.map { clock.nowNs &- $0 } ?? 0 }

    /// Adds a worker. During a run it gets a share at once and the others are rebalanced.
    ///
    /// A worker already known (lost, or whose old connection the transport has replaced) rejoins: the
    /// new link replaces the old one, its stats so far are kept once, and it gets a share again.
    public func add(_ link: any WorkerLink) async {
        let id = link.workerId
        links[id] = link
        let (joining, actions) = machine.add(id, atNs: runClockNs)
        switch joining {
        case .joined: logger.info("worker joined", metadata: ["worker": "\(id)", "workers": "\(workerCount)"])
        case .rejoined: logger.warning("worker rejoined", metadata: ["worker": "\(id)", "workers": "\(workerCount)"])
        }
        publishWorker(id, joining == .joined ? .joined : .rejoined)
        await perform(actions)
    }

    /// Marks a worker lost (missed heartbeats, closed socket). Its stats so far stay; its users go to the others.
    public func lose(_ workerId: String, reason: String) async {
        let running = isRunning
        guard let actions = machine.lose(workerId, atNs: runClockNs) else { return }
        // After the run a closing connection is expected; during it, it is news.
        logger.log(level: running ? .warning : .debug, "worker lost", metadata: ["worker": "\(workerId)", "reason": "\(reason)"])
        publishWorker(workerId, .lost(reason: reason))
        wakeup.signal()
        await perform(actions)
    }

    /// Asks the run to stop (Ctrl-C, SIGTERM).
    public func requestStop(_ reason: StopReason = .interrupted) {
        machine.requestStop(reason)
        wakeup.signal()
    }

    public func deliver(_ delta: IntervalDelta) async {
        let (delivery, actions) = machine.deliver(delta, atNs: runClockNs)
        switch delivery {
        case .applied, .duplicate: break
        case .unknownWorker: logger.warning("stats from unknown worker ignored", metadata: ["worker": "\(delta.worker)"])
        case .refused(let why): logger.warning("stats refused", metadata: ["worker": "\(delta.worker)", "reason": "\(why)"])
        }
        if machine.stopReason != nil { wakeup.signal() }
        await perform(actions)
    }

    /// Whether the worker's final delta has been applied.
    public func finalReceived(_ workerId: String) -> Bool { machine.aggregator.workers[workerId]?.finalReceived ?? false }

    /// The last seq applied for a worker.
    public func lastSeq(_ workerId: String) -> UInt64? { machine.aggregator.workers[workerId]?.lastSeq }

    /// Runs the scenario on the workers added so far (and any that join) until a stop condition holds.
    /// Publishes `.started` first and `.finished` (with hosts and CPU, see `decorate`) last.
    public func run() async -> RunResult {
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let runId = UUID().uuidString.lowercased()
        self.runId = runId
        self.startedAt = startedAt
        let epochNs = clock.nowNs
        self.epochNs = epochNs
        onEvent(.started(RunStarted(runId: runId, name: machine.scenario.name, startedAt: startedAt, scenario: machine.scenario,
                                    workers: machine.liveWorkers)))
        await perform(machine.start(runId: runId))
        while machine.stopReason == nil {
            let now = runClockNs
            await perform(machine.timer(atNs: now))
            guard machine.stopReason == nil else { break }
            await wakeup.wait(untilNs: epochNs &+ machine.nextDeadlineNs(afterNs: now), on: clock)
        }
        let durationNs = runClockNs
        let reason = machine.stopReason ?? .interrupted
        logger.info("stopping", metadata: ["reason": "\(reason.rawValue)", "elapsed_s": "\(Double(durationNs) / 1e9)"])
        await stopAll()
        machine.finish()
        let result = await decorate(machine.result(reason: reason, durationNs: durationNs, runId: runId, startedAt: startedAt))
        onEvent(.finished(result))
        return result
    }

    private func publishWorker(_ id: String, _ kind: WorkerChange.Kind) {
        onEvent(.worker(WorkerChange(worker: id, kind: kind, workers: workerCount, atSeconds: Double(runClockNs) / 1e9)))
    }

    // MARK: Actions

    private func perform(_ actions: [CoordinatorMachine.Action]) async {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .assign(let generation, let starts, let updates):
                for (id, reason) in await assign(generation: generation, starts: starts, updates: updates) {
                    guard let more = machine.lose(id, atNs: runClockNs) else { continue }
                    logger.warning("worker lost", metadata: ["worker": "\(id)", "reason": "\(reason)"])
                    wakeup.signal()
                    queue += more
                }
            case .stageChanged(let index, let label):
                logger.info("stage", metadata: ["stage": "\(index)", "plan": "\(label)"])
                let step = machine.plan.steps.indices.contains(index) ? machine.plan.steps[index] : nil
                onEvent(.stageChanged(StageChange(index: index, label: label, atSeconds: Double(runClockNs) / 1e9,
                                                  users: step?.users, rate: step?.rate)))
            case .live(let status):
                let now = runClockNs
                let snapshot = options.snapshots ? machine.snapshot(atNs: now, runId: runId, startedAt: startedAt) : nil
                onEvent(.interval(IntervalUpdate(status: status, point: machine.lastPoint, snapshot: snapshot)))
            case .records(let records):
                onEvent(.records(records))
            case .generatorSaturated(let worker, let interval, let reasons):
                logger.warning("load generator saturated: its figures may be the generator's, not the server's; add workers",
                               metadata: ["worker": "\(worker)", "interval": "\(interval)", "why": "\(reasons.joined(separator: ", "))"])
                onEvent(.generatorSaturated(GeneratorAlert(worker: worker, interval: interval, reasons: reasons)))
            }
        }
    }

    /// Starts and reshares workers side by side; returns the ones that failed, with why.
    private func assign(generation: Int, starts: [CoordinatorMachine.Start], updates: [CoordinatorMachine.Update]) async -> [(String, String)] {
        guard let epochNs else { return [] }
        let epoch = clock.origin.advanced(by: .nanoseconds(epochNs))
        let links = self.links
        return await withTaskGroup(of: (String, String)?.self) { group in
            for start in starts {
                guard let link = links[start.worker] else { continue }
                group.addTask {
                    do { try await link.start(start.assignment, epoch: epoch, sink: self) } catch { return (link.workerId, "start failed: \(error)") }
                    return nil
                }
            }
            for update in updates {
                guard let link = links[update.worker] else { continue }
                group.addTask {
                    do { try await link.update(update.share, generation: generation) } catch { return (link.workerId, "update failed: \(error)") }
                    return nil
                }
            }
            var failed: [(String, String)] = []
            for await failure in group { if let failure { failed.append(failure) } }
            return failed
        }
    }

    private func stopAll() async {
        let live = machine.liveWorkers.compactMap { links[$0] }
        let timeout = options.stopTimeout
        let failures = await withTaskGroup(of: (String, String)?.self) { group in
            for link in live {
                group.addTask {
                    do {
                        try await withDeadline(timeout) { try await link.stop() }
                        return nil
                    } catch {
                        return (link.workerId, "stop failed: \(error)")
                    }
                }
            }
            var failures: [(String, String)] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        for (id, reason) in failures {
            logger.warning("worker did not confirm its final stats", metadata: ["worker": "\(id)", "reason": "\(reason)"])
            machine.unconfirmed(id)
        }
    }

    /// Fills in host and CPU from the links (`run` does this before it publishes `.finished`).
    public func decorate(_ result: RunResult) async -> RunResult {
        var result = result
        for index in result.workers.indices {
            guard let link = links[result.workers[index].id] else { continue }
            let info = await link.info()
            result.workers[index].host = info.host
            result.workers[index].cpuPercent = info.cpuPercent
        }
        return result
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var description: String { "deadline exceeded" }
}

/// Runs `body`, throwing `DeadlineExceeded` if it has not finished within `timeout`.
func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
