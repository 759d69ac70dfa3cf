import StampedeCore

/// What a coordinator tells one worker at the start of a run.
public struct WorkerAssignment: Codable, Sendable, Equatable {
    public var runId: String
    /// Increases with every change of this worker's share; older generations are ignored.
    public var generation: Int
    public var scenario: Scenario
    public var share: WorkerShare
    /// Run-clock time (ns) at which the worker's load starts: the worker sleeps until then.
    public var startAtNs: Int64

    public init(runId: String, generation: Int, scenario: Scenario, share: WorkerShare, startAtNs: Int64 = 0) {
        self.runId = runId
        self.generation = generation
        self.scenario = scenario
        self.share = share
        self.startAtNs = startAtNs
    }
}

/// One worker's part of the load.
public struct WorkerShare: Codable, Sendable, Equatable {
    /// Users this worker runs.
    public var users: Int
    /// This worker's part of the global spawn rate, users per second.
    public var spawnRate: Double
    /// Global index of this worker's first user: user `k` on this worker is user `userBase + k` of the
    /// run, which seeds its prompts, so a split across workers draws the same prompts as one process.
    public var userBase: Int
    /// Requests this worker may send in the whole run (nil: unlimited).
    public var requestBudget: Int?
    /// Current stage index.
    public var stage: Int

    // Open loop (absent in a closed loop). The arrival schedule is global: every worker computes the
    // same seeded arrivals (see `ArrivalSchedule`) and sends arrival `k` when `k % arrivalSlots == arrivalSlot`.

    /// The global arrival rate of the current stage, requests per second (for reports; the schedule
    /// itself follows the scenario's rate and stages on the run clock).
    public var rate: Double?
    /// This worker's slot in the arrival partition, 0 ..< `arrivalSlots`.
    public var arrivalSlot: Int?
    /// Workers in the arrival partition.
    public var arrivalSlots: Int?
    /// Run-clock time (ns) from which this partition applies; arrivals scheduled before it keep the
    /// partition the worker had before.
    public var effectiveAtNs: Int64?
    /// This worker's part of `--max-concurrency`: more requests in flight and an arrival is dropped.
    public var maxInFlight: Int?
    /// The global rate as changed during the run (the dashboard's control), from run-clock zero; segment
    /// `i` is stage `i`. Nil: the schedule follows the scenario's rate and stages. Every worker gets the
    /// same segments, so every one computes the same arrivals; a change starts at the partition's
    /// `effectiveAtNs`, which every worker has heard of before it applies.
    public var rateSegments: [RateSegment]?

    public init(users: Int, spawnRate: Double, userBase: Int = 0, requestBudget: Int? = nil, stage: Int = 0,
                rate: Double? = nil, arrivalSlot: Int? = nil, arrivalSlots: Int? = nil, effectiveAtNs: Int64? = nil,
                maxInFlight: Int? = nil) {
        self.users = users
        self.spawnRate = spawnRate
        self.userBase = userBase
        self.requestBudget = requestBudget
        self.stage = stage
        self.rate = rate
        self.arrivalSlot = arrivalSlot
        self.arrivalSlots = arrivalSlots
        self.effectiveAtNs = effectiveAtNs
        self.maxInFlight = maxInFlight
    }

    /// Whether the open-loop fields make sense (a slot inside the partition, a non-negative cap).
    public var openLoopFieldsValid: Bool {
        if let slots = arrivalSlots, slots < 1 || slots > 1_000_000 { return false }
        if let slot = arrivalSlot, slot < 0 || slot >= (arrivalSlots ?? 1) { return false }
        if let rate, !(rate >= 0 && rate.isFinite) { return false }
        if let maxInFlight, maxInFlight < 0 { return false }
        if let effectiveAtNs, effectiveAtNs < 0 { return false }
        if let segments = rateSegments {
            guard (1...RequestRecord.maxStage).contains(segments.count), segments.first?.startNs == 0 else { return false }
            for (earlier, later) in zip(segments, segments.dropFirst()) where later.startNs < earlier.startNs { return false }
            guard segments.allSatisfy({ $0.rate >= 0 && $0.rate.isFinite && $0.rate <= Scenario.Limits.rate }) else { return false }
        }
        return true
    }
}

/// How work is split over workers. Pure functions, unit-tested.
public enum Dispatch {
    /// Splits `total` over `count` workers as evenly as possible; earlier workers get the remainder
    /// (10 over 3 is 4, 3, 3).
    public static func split(_ total: Int, over count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let base = total / count
        let remainder = total % count
        return (0..<count).map { base + ($0 < remainder ? 1 : 0) }
    }

    /// Shares for the given workers (in join order): users split evenly; spawn rate in proportion
    /// to users, summing to `spawnRate`; budgets split like users.
    ///
    /// Open loop (`rate` set): worker `i` gets arrival slot `i` of `workers`, effective at `effectiveAtNs`
    /// on the run clock, and `maxConcurrency` split like users (earlier workers get the remainder).
    public static func shares(users: Int, spawnRate: Double, requestBudget: Int?, workers: Int, stage: Int = 0,
                              rate: Double? = nil, maxConcurrency: Int? = nil, effectiveAtNs: Int64 = 0) -> [WorkerShare] {
        let userSplit = split(users, over: workers)
        let budgetSplit = requestBudget.map { split($0, over: workers) }
        let capSplit = maxConcurrency.map { split($0, over: workers) }
        var base = 0
        return userSplit.enumerated().map { index, count in
            defer { base += count }
            let userRate = users > 0 ? spawnRate * Double(count) / Double(users) : 0
            var share = WorkerShare(users: count, spawnRate: userRate, userBase: base, requestBudget: budgetSplit?[index], stage: stage)
            if let rate {
                share.rate = rate
                share.arrivalSlot = index
                share.arrivalSlots = workers
                share.effectiveAtNs = effectiveAtNs
                share.maxInFlight = capSplit?[index]
            }
            return share
        }
    }
}
