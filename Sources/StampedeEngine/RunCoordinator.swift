import Foundation
import Logging
import StampedeCore
import StampedeMetrics

public struct CoordinatorOptions: Sendable {
    public var intervalNs: Int64 = 1_000_000_000
    /// How long `stop` waits for a worker's final delta before giving up on it.
    public var stopTimeout: Duration = .seconds(15)
    /// How often stop conditions are checked.
    public var pollInterval: Duration = .milliseconds(20)
    /// Open loop: a new arrival partition (a worker joined or was lost) takes effect this long after the
    /// coordinator decides it, so that every worker has it before it applies.
    public var arrivalHandover: Duration = .milliseconds(500)

    public init() {}
}

/// The aggregator side of the engine: assigns shares to workers, applies stop conditions,
/// merges deltas and produces the `RunResult`. Transport-agnostic: it drives `WorkerLink`s.
public actor RunCoordinator: DeltaSink {
    let scenario: Scenario
    let options: CoordinatorOptions
    let logger: Logger
    let onLive: @Sendable (LiveStatus) -> Void
    let onRecords: @Sendable ([RequestRecord]) -> Void

    private var links: [String: any WorkerLink] = [:]
    private var joinOrder: [String] = []
    private var lost: Set<String> = []
    private var shares: [String: WorkerShare] = [:]
    private var aggregator: MetricsAggregator
    private var epoch: ContinuousClock.Instant?
    private var generation = 0
    private var stopReason: StopReason?
    private var lastLiveInterval = -1
    private var runId = ""
    private var rejectedDeltas = 0
    /// Per rejoined worker: requests it had finished when its new generator started.
    private var budgetBase: [String: Int] = [:]
    private let plan: StagePlan
    private var currentStage = 0
    private var started = false

    public init(scenario: Scenario, options: CoordinatorOptions = CoordinatorOptions(), logger: Logger = Logger(label: "stampede.coordinator"),
                onLive: @escaping @Sendable (LiveStatus) -> Void = { _ in },
                onRecords: @escaping @Sendable ([RequestRecord]) -> Void = { _ in }) {
        self.scenario = scenario
        self.options = options
        self.logger = logger
        self.onLive = onLive
        self.onRecords = onRecords
        self.aggregator = MetricsAggregator(intervalNs: options.intervalNs)
        self.plan = StagePlan(scenario: scenario)
    }

    public var workerCount: Int { joinOrder.count - lost.count }
    public var liveWorkers: [String] { joinOrder.filter { !lost.contains($0) } }
    public var isRunning: Bool { epoch != nil && stopReason == nil }
    public var isStopRequested: Bool { stopReason != nil }

    /// Nanoseconds on the run clock now (0 before the run starts).
    public var runClockNs: Int64 { epoch.map { $0.duration(to: .now).nanoseconds } ?? 0 }

    /// Adds a worker. During a run it gets a share at once and the others are rebalanced.
    ///
    /// A worker already known (lost, or whose old connection the transport has replaced) rejoins: the
    /// new link replaces the old one, its stats so far are kept once, and it gets a share again.
    public func add(_ link: any WorkerLink) async {
        let id = link.workerId
        if links[id] != nil {
            links[id] = link
            lost.remove(id)
            aggregator.rejoin(worker: id)
            // Its new generator counts requests from 0: its budget starts from what it has finished.
            budgetBase[id] = aggregator.workers[id]?.counters.finished ?? 0
            logger.warning("worker rejoined", metadata: ["worker": "\(id)", "workers": "\(workerCount)"])
            if isRunning { await rebalance(starting: [id]) }
            return
        }
        links[id] = link
        joinOrder.append(id)
        logger.info("worker joined", metadata: ["worker": "\(id)", "workers": "\(workerCount)"])
        if isRunning { await rebalance(starting: [id]) }
    }

    /// Marks a worker lost (missed heartbeats, closed socket). Its stats so far stay; its users go to the others.
    public func lose(_ workerId: String, reason: String) async {
        guard links[workerId] != nil, !lost.contains(workerId) else { return }
        lost.insert(workerId)
        aggregator.forget(worker: workerId)
        // After the run a closing connection is expected; during it, it is news.
        logger.log(level: isRunning ? .warning : .debug, "worker lost", metadata: ["worker": "\(workerId)", "reason": "\(reason)"])
        if isRunning {
            if workerCount == 0 { stopReason = .allWorkersLost } else { await rebalance(starting: []) }
        }
    }

    /// Asks the run to stop (Ctrl-C, SIGTERM).
    public func requestStop(_ reason: StopReason = .interrupted) {
        if stopReason == nil { stopReason = reason }
    }

    public func deliver(_ delta: IntervalDelta) async {
        guard links[delta.worker] != nil else {
            rejectedDeltas += 1
            logger.warning("stats from unknown worker ignored", metadata: ["worker": "\(delta.worker)"])
            return
        }
        if let why = DeltaAdmission.refusal(delta, runClockNs: runClockNs, stageCount: max(1, plan.steps.count)) {
            rejectedDeltas += 1
            logger.warning("stats refused", metadata: ["worker": "\(delta.worker)", "reason": "\(why)"])
            return
        }
        if aggregator.apply(delta) == .applied, !delta.records.isEmpty { onRecords(delta.records) }
    }

    /// Whether the worker's final delta has been applied.
    public func finalReceived(_ workerId: String) -> Bool { aggregator.workers[workerId]?.finalReceived ?? false }

    /// The last seq applied for a worker.
    public func lastSeq(_ workerId: String) -> UInt64? { aggregator.workers[workerId]?.lastSeq }

    /// Runs the scenario on the workers added so far (and any that join) until a stop condition holds.
    public func run() async -> RunResult {
        let startedAt = ISO8601DateFormatter().string(from: Date())
        runId = UUID().uuidString.lowercased()
        let epoch = ContinuousClock.now
        self.epoch = epoch
        await rebalance(starting: liveWorkers)
        if workerCount == 0, stopReason == nil { stopReason = .startFailed }

        while stopReason == nil {
            let elapsed = epoch.duration(to: .now)
            if let runTime = scenario.runTimeSeconds, elapsed.seconds >= runTime { stopReason = .runTime; break }
            if let end = plan.endNs, elapsed.nanoseconds >= end { stopReason = .runTime; break }
            let stage = plan.stageIndex(atNs: elapsed.nanoseconds)
            if stage != currentStage {
                // Every worker gets the new stage's share at once (one generation); rate stages switch on
                // the run clock in each worker's schedule, at the stage's planned start.
                currentStage = stage
                logger.info("stage", metadata: ["stage": "\(stage)", "plan": "\(plan.steps[stage].label)"])
                await rebalance(starting: [])
            }
            if scenario.maxRequests != nil, !liveWorkers.isEmpty,
               liveWorkers.allSatisfy({ aggregator.workers[$0]?.exhausted ?? false }) {
                stopReason = .maxRequests
                break
            }
            publishLive(elapsed: elapsed)
            try? await Task.sleep(for: options.pollInterval)
        }
        let duration = epoch.duration(to: .now)
        let reason = stopReason ?? .interrupted
        logger.info("stopping", metadata: ["reason": "\(reason.rawValue)", "elapsed_s": "\(duration.seconds)"])
        await stopAll()
        aggregator.closeAll()
        return result(reason: reason, duration: duration, startedAt: startedAt)
    }

    // MARK: Internals

    private func rebalance(starting newWorkers: [String]) async {
        guard let epoch else { return }
        let live = liveWorkers
        generation += 1
        let now = epoch.duration(to: .now).nanoseconds
        // The first assignment holds from run-clock zero; later partitions from a moment every worker will have heard of.
        let effectiveAt = started ? now + options.arrivalHandover.nanoseconds : 0
        started = true
        let step = plan.steps.indices.contains(currentStage) ? plan.steps[currentStage] : nil
        let open = scenario.openLoop
        var newShares = Dispatch.shares(users: open == nil ? step?.users ?? scenario.users : 0, spawnRate: scenario.spawnRate,
                                        requestBudget: nil, workers: live.count, stage: currentStage,
                                        rate: open.map { step?.rate ?? $0.rate }, maxConcurrency: open?.maxConcurrency,
                                        effectiveAtNs: effectiveAt)
        if let maxRequests = scenario.maxRequests {
            // Budgets: what each live worker has committed (finished + in flight) plus an even split of the rest.
            var committed: [String: Int] = [:]
            var used = 0
            for id in joinOrder {
                let tally = aggregator.workers[id]
                let done = (tally?.counters.finished ?? 0) &+| (lost.contains(id) ? 0 : tally?.inFlight ?? 0)
                committed[id] = done
                used = used &+| done
            }
            let rest = Dispatch.split(max(0, maxRequests - used), over: live.count)
            for (index, id) in live.enumerated() {
                newShares[index].requestBudget = max(0, committed[id]! - (budgetBase[id] ?? 0)) + rest[index]
            }
        }
        let generation = self.generation
        let runId = self.runId
        let scenario = self.scenario
        var starts: [(any WorkerLink, WorkerAssignment)] = []
        var updates: [(any WorkerLink, WorkerShare)] = []
        for (index, id) in live.enumerated() {
            shares[id] = newShares[index]
            let link = links[id]!
            if newWorkers.contains(id) {
                starts.append((link, WorkerAssignment(runId: runId, generation: generation, scenario: scenario, share: newShares[index], startAtNs: now)))
            } else {
                updates.append((link, newShares[index]))
            }
        }
        var failed: [(String, String)] = []
        await withTaskGroup(of: (String, String)?.self) { group in
            for (link, assignment) in starts {
                group.addTask {
                    do { try await link.start(assignment, epoch: epoch, sink: self) } catch { return (link.workerId, "start failed: \(error)") }
                    return nil
                }
            }
            for (link, share) in updates {
                group.addTask {
                    do { try await link.update(share, generation: generation) } catch { return (link.workerId, "update failed: \(error)") }
                    return nil
                }
            }
            for await failure in group { if let failure { failed.append(failure) } }
        }
        for (id, reason) in failed { await lose(id, reason: reason) }
    }

    private func stopAll() async {
        let live = liveWorkers.compactMap { links[$0] }
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
            lost.insert(id)
        }
    }

    private func publishLive(elapsed: Duration) {
        let closeBefore = Int((elapsed.nanoseconds - 300_000_000) / options.intervalNs)
        guard closeBefore > lastLiveInterval + 1 else { return }
        aggregator.close(intervalsBefore: closeBefore)
        lastLiveInterval = closeBefore - 1
        guard let point = aggregator.series.last else { return }
        let totals = aggregator.total.counters
        onLive(LiveStatus(elapsedSeconds: elapsed.seconds, users: liveWorkers.reduce(0) { $0 + (aggregator.workers[$1]?.users ?? 0) },
                          requestsPerSecond: point.requestsPerSecond, ttftP50Seconds: point.latency["ttft_p50"],
                          outputTokensPerSecond: point.outputTokensPerSecond, finished: totals.finished, errors: totals.failed,
                          workers: workerCount))
    }

    private func result(reason: StopReason, duration: Duration, startedAt: String) -> RunResult {
        let seconds = duration.seconds
        let overall = StatsSummary(aggregator.total, durationSeconds: seconds)
        let stages = LoadModelResults.stages(plan: plan, sets: aggregator.stages, runNs: duration.nanoseconds)
        let workers = joinOrder.map { id -> WorkerSummary in
            let tally = aggregator.workers[id]
            let finished = tally?.counters.finished ?? 0
            return WorkerSummary(id: id, host: "", users: shares[id]?.users ?? 0, finished: finished, failed: tally?.counters.failed ?? 0,
                                 requestsPerSecond: Double(finished) / max(seconds, 1e-9), cpuPercent: nil,
                                 state: lost.contains(id) ? .lost : .stopped)
        }
        var result = RunResult(runId: runId, name: scenario.name, startedAt: startedAt, stopReason: reason, durationSeconds: seconds,
                               scenario: scenario, overall: overall, stages: stages, timeSeries: aggregator.series, workers: workers,
                               formulas: RunResult.allFormulas)
        result.total = aggregator.total
        result.slo = scenario.slo.map { SLOResult.evaluate($0, summary: overall) }
        result.cost = scenario.pricing.map { CostSummary.compute($0, summary: overall) }
        result.openLoop = scenario.openLoop.map { LoadModelResults.openLoop($0, plan: plan, summary: overall, runNs: duration.nanoseconds) }
        return result
    }

    /// Fills in host and CPU from the links (async, so done by the caller after `run`).
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
