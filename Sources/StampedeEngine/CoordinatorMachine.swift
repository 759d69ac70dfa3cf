import StampedeCore
import StampedeMetrics

/// The coordinator's run as a pure state machine: events go in (the run starts, a worker joins,
/// rejoins or is lost, a delta arrives, a deadline passes, a stop is asked for) and actions come
/// out (start or reshare workers, publish the live line, pass records on). It does no I/O and
/// reads no clock: each event carries its run-clock time. `RunCoordinator` drives it and sleeps
/// until `nextDeadlineNs`; the tests drive it with plain numbers.
///
/// One place for each rule: shares and budgets (`rebalance`), stop conditions (`timer`, `deliver`,
/// `lose`), stages (`timer`) and the live line's cadence (`nextDeadlineNs`).
public struct CoordinatorMachine: Sendable {
    public enum Action: Sendable, Equatable {
        /// Start these workers and reshare the others; all carry `generation`.
        case assign(generation: Int, starts: [Start], updates: [Update])
        /// The run entered stage `index`.
        case stageChanged(index: Int, label: String)
        /// The live line has a new closed interval.
        case live(LiveStatus)
        /// Raw records of a merged delta (only when the scenario collects them).
        case records([RequestRecord])
        /// A worker's generator has been saturated in enough intervals to count (once per worker).
        case generatorSaturated(worker: String, interval: Int, reasons: [String])
    }

    public struct Start: Sendable, Equatable {
        public var worker: String
        public var assignment: WorkerAssignment
    }

    public struct Update: Sendable, Equatable {
        public var worker: String
        public var share: WorkerShare
    }

    /// What became of a delta.
    public enum Delivery: Sendable, Equatable {
        case applied
        case duplicate
        case unknownWorker
        case refused(String)
    }

    /// Why a load change was refused.
    public enum LoadChangeRefusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notRunning
        case needsUsers
        case needsRate
        case plannedStages
        case users(Int)
        case rate(Double)
        case tooManyStages

        public var description: String {
            switch self {
            case .notRunning: "the run is not running"
            case .needsUsers: "a closed-loop run changes its users, not a rate"
            case .needsRate: "an open-loop run changes its rate (requests per second), not users"
            case .rate(let r): "the rate must be above 0 and at most \(Int(Scenario.Limits.rate)) requests per second, not \(r)"
            case .plannedStages: "this run follows planned stages; its users cannot be changed by hand"
            case .users(let n): "users must be between 0 and \(Scenario.Limits.users), not \(n)"
            case .tooManyStages: "the run has had \(RequestRecord.maxStage) stages; start a new run"
            }
        }
    }

    /// How a worker was added.
    public enum Joining: Sendable, Equatable {
        case joined
        case rejoined
    }

    public let scenario: Scenario
    /// The stages on the run clock: the scenario's, plus any load change asked for during the run.
    public private(set) var plan: StagePlan
    public let intervalNs: Int64
    /// Open loop: a new arrival partition takes effect this long after it is decided, so that every
    /// worker has it before it applies.
    public let arrivalHandoverNs: Int64
    /// The live line shows an interval once this long has passed after its end (late deltas arrive).
    public let liveLagNs: Int64
    /// When a worker's generator counts as the bottleneck.
    public let saturation: SaturationPolicy

    public private(set) var joinOrder: [String] = []
    public private(set) var lost: Set<String> = []
    public private(set) var shares: [String: WorkerShare] = [:]
    public private(set) var aggregator: MetricsAggregator
    public private(set) var stopReason: StopReason?
    public private(set) var started = false
    public private(set) var currentStage = 0
    public private(set) var rejectedDeltas = 0
    private var known: Set<String> = []
    private var generation = 0
    private var runId = ""
    private var lastLiveInterval = -1
    /// Per rejoined worker: requests it had finished when its new generator started.
    private var budgetBase: [String: Int] = [:]
    /// The generator self-check: per worker, and the intervals in which any worker was saturated.
    private(set) var generators: [String: GeneratorTally] = [:]
    private(set) var saturatedIntervals: Set<Int> = []
    private(set) var intervalCPU: [Int: Double] = [:]

    public init(scenario: Scenario, intervalNs: Int64 = 1_000_000_000, arrivalHandoverNs: Int64 = 500_000_000,
                liveLagNs: Int64 = 300_000_000, saturation: SaturationPolicy = SaturationPolicy()) {
        self.scenario = scenario
        self.plan = StagePlan(scenario: scenario)
        self.intervalNs = max(1, intervalNs)
        self.arrivalHandoverNs = arrivalHandoverNs
        self.liveLagNs = liveLagNs
        var policy = saturation
        if let cpu = scenario.saturation?.cpuShare { policy.cpuShare = cpu }
        if let lag = scenario.saturation?.lagMs {
            policy.loopLagP99Us = UInt64((lag * 1000).rounded())
            policy.scheduleLagP99Us = policy.loopLagP99Us
        }
        self.saturation = policy
        self.aggregator = MetricsAggregator(intervalNs: self.intervalNs)
    }

    public var liveWorkers: [String] { joinOrder.filter { !lost.contains($0) } }
    public var workerCount: Int { joinOrder.count - lost.count }
    public var isRunning: Bool { started && stopReason == nil }

    // MARK: Events

    /// The run starts at run-clock zero with the workers added so far.
    public mutating func start(runId: String) -> [Action] {
        guard !started else { return [] }
        self.runId = runId
        let actions = rebalance(starting: liveWorkers, atNs: 0)
        started = true
        if workerCount == 0, stopReason == nil { stopReason = .startFailed }
        return actions
    }

    /// A worker connected. A known id rejoins: its stats so far are kept once, and its new generator
    /// counts its budget from what it had finished.
    public mutating func add(_ id: String, atNs now: Int64) -> (Joining, [Action]) {
        let joining: Joining
        if known.contains(id) {
            lost.remove(id)
            aggregator.rejoin(worker: id)
            budgetBase[id] = aggregator.workers[id]?.counters.finished ?? 0
            joining = .rejoined
        } else {
            known.insert(id)
            joinOrder.append(id)
            joining = .joined
        }
        return (joining, isRunning ? rebalance(starting: [id], atNs: now) : [])
    }

    /// A worker is gone (missed heartbeats, a closed socket, a failed start). Its stats so far stay;
    /// its users go to the others. Nil when it was not known or already lost.
    public mutating func lose(_ id: String, atNs now: Int64) -> [Action]? {
        guard known.contains(id), !lost.contains(id) else { return nil }
        lost.insert(id)
        aggregator.forget(worker: id)
        guard isRunning else { return [] }
        if workerCount == 0 {
            stopReason = .allWorkersLost
            return []
        }
        return rebalance(starting: [], atNs: now)
    }

    /// A worker said the run should stop, or the user did (Ctrl-C, SIGTERM). The first reason wins.
    public mutating func requestStop(_ reason: StopReason) {
        if stopReason == nil { stopReason = reason }
    }

    /// A worker's delta: checked against the run, merged, and its records passed on. When every live
    /// worker has spent its request budget, the run stops.
    public mutating func deliver(_ delta: IntervalDelta, atNs now: Int64) -> (Delivery, [Action]) {
        guard known.contains(delta.worker) else {
            rejectedDeltas += 1
            return (.unknownWorker, [])
        }
        if let why = DeltaAdmission.refusal(delta, runClockNs: now, stageCount: max(1, plan.steps.count)) {
            rejectedDeltas += 1
            return (.refused(why), [])
        }
        guard aggregator.apply(delta) == .applied else { return (.duplicate, []) }
        if isRunning, scenario.maxRequests != nil, !liveWorkers.isEmpty,
           liveWorkers.allSatisfy({ aggregator.workers[$0]?.exhausted ?? false }) {
            stopReason = .maxRequests
        }
        var actions: [Action] = delta.records.isEmpty ? [] : [.records(delta.records)]
        if let sample = delta.generator, let saturated = checkGenerator(sample, of: delta) { actions.append(saturated) }
        return (.applied, actions)
    }

    /// A deadline passed (or the driver woke): the run time, the stages and the live line.
    public mutating func timer(atNs now: Int64) -> [Action] {
        guard isRunning else { return [] }
        if let runTime = scenario.runTimeSeconds, Double(now) / 1e9 >= runTime { stopReason = .runTime; return [] }
        if let end = plan.endNs, now >= end { stopReason = .runTime; return [] }
        var actions: [Action] = []
        let stage = plan.stageIndex(atNs: now)
        if stage != currentStage {
            // Every worker gets the new stage's share at once (one generation); rate stages switch on
            // the run clock in each worker's schedule, at the stage's planned start.
            currentStage = stage
            actions.append(.stageChanged(index: stage, label: plan.steps[stage].label))
            actions += rebalance(starting: [], atNs: now)
        }
        if let status = live(atNs: now) { actions.append(.live(status)) }
        return actions
    }

    /// The next run-clock time at which `timer` has something to do: the end of the run, the next
    /// stage, the next live interval. The driver sleeps until then unless an event wakes it.
    public func nextDeadlineNs(afterNs now: Int64) -> Int64 {
        var deadline = Int64(lastLiveInterval + 2).saturatingMultiply(intervalNs).saturatingAdd(liveLagNs)
        if let runTime = scenario.runTimeSeconds {
            deadline = min(deadline, Int64((runTime * 1e9).rounded(.up)))
        }
        if let end = plan.endNs { deadline = min(deadline, end) }
        if let next = plan.steps.first(where: { $0.startNs > now }) { deadline = min(deadline, next.startNs) }
        return max(deadline, now)
    }

    /// A change of load asked for while the run goes on (the dashboard's control, like Locust's UI), as a
    /// new stage shared over the live workers at once. Not in a scenario with planned stages (whose
    /// workers follow the plan).
    ///
    /// Closed loop (`users`): the stage in force ends now and the new one begins.
    /// Open loop (`rate`): the new rate begins after the handover (`arrivalHandoverNs`), so that every
    /// worker has the new segments before they apply; the stage changes then, on the timer.
    public mutating func changeLoad(users: Int? = nil, rate: Double? = nil, atNs now: Int64) -> Result<[Action], LoadChangeRefusal> {
        guard isRunning else { return .failure(.notRunning) }
        guard scenario.stages?.isEmpty ?? true else { return .failure(.plannedStages) }
        // Every stage index travels in shares, records and deltas, which the wire bounds.
        guard plan.steps.count < RequestRecord.maxStage - 1 else { return .failure(.tooManyStages) }
        if let open = scenario.openLoop {
            guard let rate else { return .failure(.needsRate) }
            // A rate of 0 is refused: the schedule has no pause (use a low rate).
            guard rate > 0, rate.isFinite, rate <= Scenario.Limits.rate else { return .failure(.rate(rate)) }
            // A change asked for before the last one took effect ends that one's stage at its start (`StagePlan.change`).
            plan.change(atNs: now.saturatingAdd(arrivalHandoverNs), users: nil, rate: rate, initialUsers: nil,
                        initialRate: plan.steps.isEmpty ? open.rate : nil)
            return .success(rebalance(starting: [], atNs: now))
        }
        guard let users else { return .failure(.needsUsers) }
        guard users >= 0, users <= Scenario.Limits.users else { return .failure(.users(users)) }
        let initial = plan.steps.isEmpty ? scenario.users : nil
        let index = plan.change(atNs: now, users: users, rate: nil, initialUsers: initial, initialRate: nil)
        currentStage = index
        return .success([.stageChanged(index: index, label: plan.steps[index].label)] + rebalance(starting: [], atNs: now))
    }

    /// A worker did not confirm its final stats when the run stopped: it shows as lost.
    public mutating func unconfirmed(_ id: String) {
        if known.contains(id) { lost.insert(id) }
    }

    /// Once the run stopped: every interval is final.
    public mutating func finish() {
        aggregator.closeAll()
    }

    // MARK: Rules

    /// Judges one interval of a worker's generator; says so once when the worker counts as saturated.
    private mutating func checkGenerator(_ sample: GeneratorSample, of delta: IntervalDelta) -> Action? {
        let reasons = saturation.reasons(sample, scheduleLag: delta.merged[.scheduleLag])
        var tally = generators[delta.worker] ?? GeneratorTally()
        tally.add(sample, reasons: reasons)
        intervalCPU[delta.interval] = max(intervalCPU[delta.interval] ?? 0, sample.cpuShare)
        var action: Action?
        if !reasons.isEmpty {
            saturatedIntervals.insert(delta.interval)
            if !tally.warned, saturation.workerSaturated(saturated: tally.saturated, sampled: tally.sampled) {
                tally.warned = true
                action = .generatorSaturated(worker: delta.worker, interval: delta.interval, reasons: reasons)
            }
        }
        generators[delta.worker] = tally
        return action
    }

    /// New shares for the live workers: users (or arrival slots) split evenly, and with a request
    /// budget, each worker keeps what it has committed plus an even part of the rest.
    private mutating func rebalance(starting newWorkers: [String], atNs now: Int64) -> [Action] {
        let live = liveWorkers
        generation += 1
        // The first assignment holds from run-clock zero; later partitions from a moment every worker will have heard of.
        let effectiveAt = started ? now.saturatingAdd(arrivalHandoverNs) : 0
        let step = plan.steps.indices.contains(currentStage) ? plan.steps[currentStage] : nil
        let open = scenario.openLoop
        var newShares = Dispatch.shares(users: open == nil ? step?.users ?? scenario.users : 0, spawnRate: scenario.spawnRate,
                                        requestBudget: nil, workers: live.count, stage: currentStage,
                                        rate: open.map { step?.rate ?? $0.rate }, maxConcurrency: open?.maxConcurrency,
                                        effectiveAtNs: effectiveAt)
        if open != nil, plan.openEnded {
            let segments = plan.rateSegments(fallback: open?.rate ?? 0)
            for index in newShares.indices { newShares[index].rateSegments = segments }
        }
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
                newShares[index].requestBudget = max(0, (committed[id] ?? 0) - (budgetBase[id] ?? 0)) + rest[index]
            }
        }
        var starts: [Start] = []
        var updates: [Update] = []
        for (index, id) in live.enumerated() {
            shares[id] = newShares[index]
            if newWorkers.contains(id) {
                starts.append(Start(worker: id, assignment: WorkerAssignment(runId: runId, generation: generation, scenario: scenario,
                                                                             share: newShares[index], startAtNs: now)))
            } else {
                updates.append(Update(worker: id, share: newShares[index]))
            }
        }
        return live.isEmpty ? [] : [.assign(generation: generation, starts: starts, updates: updates)]
    }

    /// The live line for the newest interval that closed `liveLagNs` ago, if one closed since the last.
    private mutating func live(atNs now: Int64) -> LiveStatus? {
        let closeBefore = Int(now.saturatingSubtract(liveLagNs) / intervalNs)
        guard closeBefore > lastLiveInterval + 1 else { return nil }
        aggregator.close(intervalsBefore: closeBefore)
        lastLiveInterval = closeBefore - 1
        guard let point = aggregator.lastClosed else { return nil }
        let totals = aggregator.total.counters
        return LiveStatus(elapsedSeconds: Double(now) / 1e9,
                          users: liveWorkers.reduce(0) { $0 + (aggregator.workers[$1]?.users ?? 0) },
                          requestsPerSecond: point.requestsPerSecond, ttftP50Seconds: point.latency["ttft_p50"],
                          outputTokensPerSecond: point.outputTokensPerSecond, finished: totals.finished, errors: totals.failed,
                          workers: workerCount)
    }
}
