import StampedeCore
import StampedeMetrics

/// One worker's run as a pure state machine, in the style of AsyncHTTPClient's connection pool:
/// events go in (a spawn is due, a request begins or ends, an arrival is due, a boundary passed, a
/// new share, stop) and decisions come out. It does no I/O and reads no clock: every event carries
/// its run-clock time. `LoadGenerator` drives it; the tests drive it with plain numbers.
///
/// Each invariant lives here once: the request budget (`budgetSpent`), which users run
/// (`shouldRun`), when the next user starts (`nextSpawn`), and which interval a request belongs to
/// (the one its end falls in, `cut`).
struct WorkerMachine: Sendable {
    /// What the closed loop does next.
    enum SpawnDecision: Equatable {
        /// Start local user `user` now.
        case spawn(user: Int)
        /// The next user may start at `untilNs` on the run clock.
        case wait(untilNs: Int64)
        /// Nothing to start (all users run, the budget is spent, or the run stops): wait for an event.
        case idle
    }

    /// What the open loop does with one arrival.
    enum ArrivalDecision: Equatable {
        /// Another worker's arrival.
        case notMine
        /// Sent: a ticket was taken and the request is in flight.
        case send
        /// `maxInFlight` requests were in flight: not sent, counted in `droppedArrivals`.
        case dropped
        /// The request budget is spent (or the run is stopping): not sent, not counted.
        case spent
    }

    let workerId: String
    let intervalNs: Int64
    let collectRecords: Bool
    private(set) var share: WorkerShare
    private(set) var generation: Int
    /// Local user indices currently running.
    private(set) var alive: Set<Int> = []
    private(set) var inFlight = 0
    private(set) var ticketsTaken = 0
    private(set) var stopping = false
    /// When the load stopped, on the run clock (nil: not stopped, or stopped without a time).
    private(set) var stoppedAtNs: Int64?
    /// Interval index (by each request's end on the run clock) → stage → metrics not yet sent.
    private var pending: [Int: [Int: MetricSet]] = [:]
    /// Interval index → raw records not yet sent (only when the scenario collects them).
    private var pendingRecords: [Int: [RequestRecord]] = [:]
    private var nextRecordId: UInt64 = 0
    private(set) var seq: UInt64 = 0
    private var exhaustedReported = false
    /// Open loop: which arrivals this worker sends.
    private var partitions = ArrivalPartitions()
    /// When the next user may start (nil: at once).
    private var nextSpawnNs: Int64?
    /// No user index below this one is free (a hint, so a spawn does not scan every user).
    private var lowestFree = 0
    /// Lateness of the 10 ms timer since the last boundary cut (the generator self-check).
    private var loopLag = MetricHistogram()

    init(workerId: String, share: WorkerShare, generation: Int, collectRecords: Bool, intervalNs: Int64 = 1_000_000_000) {
        self.workerId = workerId
        self.share = share
        self.generation = generation
        self.collectRecords = collectRecords
        self.intervalNs = max(1, intervalNs)
        partitions.apply(share)
    }

    // MARK: The budget rule

    /// Whether this worker has taken every ticket its budget allows.
    var budgetSpent: Bool { share.requestBudget.map { ticketsTaken >= $0 } ?? false }

    /// The budget is spent and nothing is in flight: the worker has done its part.
    var exhausted: Bool { budgetSpent && inFlight == 0 }

    /// The worker is exhausted and has not said so yet: the driver cuts at once (the coordinator stops on it).
    var exhaustionDue: Bool { exhausted && !exhaustedReported }

    // MARK: Events

    /// Applies a share newer than the current one. False for a stale generation (ignored).
    mutating func update(_ share: WorkerShare, generation: Int) -> Bool {
        guard generation > self.generation else { return false }
        self.share = share
        self.generation = generation
        partitions.apply(share)
        return true
    }

    /// Stops the load at run-clock `ns`: no new users, tickets or arrivals. Requests cancelled by the stop
    /// count their time in flight up to the first stop time given (see `endRequest`).
    mutating func stop(atNs ns: Int64? = nil) {
        stopping = true
        if let ns { stoppedAtNs = min(stoppedAtNs ?? ns, ns) }
    }

    /// A late spawning loop starts at once the users due in at most this much time before now.
    static let spawnCatchUpNs: Int64 = 100_000_000

    /// Closed loop: whether a user starts now, and if not, until when to wait. Users start at
    /// `share.spawnRate`, on a grid of one spawn period: a spawn that is due runs now and the next is
    /// due a period after it. A loop that is late catches up the spawns of the last
    /// `spawnCatchUpNs` at once; a longer stall is not made up, so users never burst by more.
    mutating func nextSpawn(atNs now: Int64) -> SpawnDecision {
        guard !stopping, !budgetSpent, alive.count < share.users else {
            // Nothing to start: the next user, when there is one again, may start at once.
            nextSpawnNs = nil
            return .idle
        }
        if let due = nextSpawnNs, now < due { return .wait(untilNs: due) }
        var index = lowestFree
        while alive.contains(index) { index += 1 }
        alive.insert(index)
        lowestFree = index + 1
        let period = Int64(min(1e9 / max(share.spawnRate, 1e-6), 3.6e12))
        // On the spawn grid: a loop that wakes a little late (a timer's slack, a busy executor) starts
        // the users it owes at once, so the rate holds (with the next due a period after now, 2,000
        // users/s came out at about 1,600 on a busy process). It owes at most `spawnCatchUpNs` of
        // spawns: after a longer stall users do not burst.
        nextSpawnNs = max(now &- Self.spawnCatchUpNs, nextSpawnNs ?? now) &+ period
        return .spawn(user: index)
    }

    /// Whether local user `index` keeps going: the run goes on and the share still has it.
    func shouldRun(_ index: Int) -> Bool {
        !stopping && index < share.users
    }

    /// A user ended (it left the share, the budget is spent, or the run stops).
    mutating func userEnded(_ index: Int) {
        if alive.remove(index) != nil { lowestFree = min(lowestFree, index) }
    }

    /// Closed loop: takes a ticket and marks a request in flight. Nil when the budget is spent or the
    /// run stops; else the stage the share is in.
    mutating func beginRequest() -> Int? {
        guard !stopping, !budgetSpent else { return nil }
        ticketsTaken += 1
        inFlight += 1
        return share.stage
    }

    /// Open loop: whether this worker sends arrival `index` scheduled at `ns` in `stage`; takes its ticket if so.
    mutating func admitArrival(_ index: UInt64, atNs ns: Int64, stage: Int) -> ArrivalDecision {
        guard partitions.owns(index, atNs: ns) else { return .notMine }
        guard !stopping, !budgetSpent else { return .spent }
        if let cap = share.maxInFlight, inFlight >= cap {
            pending[interval(ofNs: ns), default: [:]][stage, default: MetricSet()].counters.droppedArrivals += 1
            return .dropped
        }
        ticketsTaken += 1
        inFlight += 1
        return .send
    }

    /// A request ended. Its record joins the interval its end falls in, whenever the next cut happens.
    /// A nil record is a request cancelled because the run stops: not counted as finished, but its time in
    /// flight, from `beganNs` (its scheduled send) to the stop (else `nowNs`), is added to the busy time of
    /// `stage` in the interval of that end, so that achieved concurrency counts the requests still in flight.
    mutating func endRequest(_ record: RequestRecord?, stage: Int = 0, beganNs: Int64? = nil, nowNs: Int64? = nil) {
        inFlight = max(0, inFlight - 1)
        guard var record else {
            guard let beganNs, let endNs = stoppedAtNs ?? nowNs else { return }
            let busy = max(0, endNs.saturatingSubtract(beganNs))
            guard busy > 0 else { return }
            pending[interval(ofNs: endNs), default: [:]][stage, default: MetricSet()].counters.busyNanoseconds &+|= busy
            return
        }
        record.id = nextRecordId
        record.worker = workerId
        nextRecordId &+= 1
        let interval = interval(ofNs: record.endNs)
        pending[interval, default: [:]][record.stage, default: MetricSet()].record(record)
        if collectRecords { pendingRecords[interval, default: []].append(record) }
    }

    /// The 10 ms timer woke `ns` late.
    mutating func recordLoopLag(ns: Int64) {
        loopLag.recordNanoseconds(max(0, ns))
    }

    /// The run-clock interval that holds `ns` (0 for times before the run).
    func interval(ofNs ns: Int64) -> Int {
        Int(max(0, ns) / intervalNs)
    }

    /// One delta for every interval up to `through` that holds requests not yet sent, oldest first,
    /// and one for `through` itself even when it is empty (it carries the user count); in `seq` order.
    /// `final` sends everything pending and marks the last delta final. Each interval is the one its
    /// requests ended in, so the series a coordinator builds counts each request in the second it
    /// finished, however late the cut runs. A boundary cut passes the generator's CPU reading: the
    /// delta of `through` carries it with the loop lag since the last one.
    mutating func cut(through: Int, final: Bool, cpu: (share: Double, allowanceCores: Double)? = nil) -> [IntervalDelta] {
        let exhausted = self.exhausted
        if exhausted { exhaustedReported = true }
        var intervals = Set(pending.keys).union(pendingRecords.keys).filter { final || $0 <= through }
        intervals.insert(final ? max(through, intervals.max() ?? through) : through)
        let ordered = intervals.sorted()
        var deltas: [IntervalDelta] = []
        deltas.reserveCapacity(ordered.count)
        for (position, interval) in ordered.enumerated() {
            let start = Int64(interval) * intervalNs
            let last = position == ordered.count - 1
            deltas.append(IntervalDelta(worker: workerId, seq: seq, interval: interval, startNs: start, endNs: start + intervalNs,
                                        users: final ? 0 : alive.count, inFlight: final ? 0 : inFlight,
                                        stages: pending.removeValue(forKey: interval) ?? [:], final: final && last,
                                        exhausted: exhausted, records: pendingRecords.removeValue(forKey: interval) ?? []))
            seq += 1
        }
        if let cpu, !final, let last = deltas.indices.last {
            deltas[last].generator = GeneratorSample(cpuShare: cpu.share, allowanceCores: cpu.allowanceCores, loopLag: loopLag)
            loopLag = MetricHistogram()
        }
        return deltas
    }
}
