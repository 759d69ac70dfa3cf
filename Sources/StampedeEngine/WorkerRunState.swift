import StampedeCore
import StampedeMetrics
import Synchronization

/// The mutable state shared by one worker's user tasks, ticker and control calls.
/// Sendable because its only stored property is a `Mutex`, which serialises all access.
final class WorkerRunState: Sendable {
    struct Inner {
        var share: WorkerShare
        var generation: Int
        /// Local user indices currently running.
        var alive: Set<Int> = []
        var inFlight = 0
        var ticketsTaken = 0
        var stopping = false
        /// Interval index (by each request's end on the run clock) → stage → metrics not yet sent.
        var pending: [Int: [Int: MetricSet]] = [:]
        /// Interval index → raw records not yet sent (only when the scenario collects them).
        var pendingRecords: [Int: [RequestRecord]] = [:]
        var nextRecordId: UInt64 = 0
        var seq: UInt64 = 0
        var exhaustedReported = false
        /// Open loop: which arrivals this worker sends.
        var partitions = ArrivalPartitions()
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

    let inner: Mutex<Inner>
    let collectRecords: Bool
    let workerId: String
    let intervalNs: Int64

    init(workerId: String, share: WorkerShare, generation: Int, collectRecords: Bool, intervalNs: Int64 = 1_000_000_000) {
        self.workerId = workerId
        self.collectRecords = collectRecords
        self.intervalNs = intervalNs
        var state = Inner(share: share, generation: generation)
        state.partitions.apply(share)
        inner = Mutex(state)
    }

    /// Applies a newer share (the caller checked the generation).
    func update(_ share: WorkerShare, generation: Int) {
        inner.withLock { state in
            state.share = share
            state.generation = generation
            state.partitions.apply(share)
        }
    }

    /// Decides, under the lock, whether this worker sends arrival `index` scheduled at `ns` in `stage`,
    /// and takes its ticket if so.
    func admitArrival(_ index: UInt64, atNs ns: Int64, stage: Int) -> ArrivalDecision {
        let interval = self.interval(ofNs: ns)
        return inner.withLock { state in
            guard state.partitions.owns(index, atNs: ns) else { return .notMine }
            guard !state.stopping else { return .spent }
            if let budget = state.share.requestBudget, state.ticketsTaken >= budget { return .spent }
            if let cap = state.share.maxInFlight, state.inFlight >= cap {
                state.pending[interval, default: [:]][stage, default: MetricSet()].counters.droppedArrivals += 1
                return .dropped
            }
            state.ticketsTaken += 1
            state.inFlight += 1
            return .send
        }
    }

    /// Whether local user `index` should keep going.
    func shouldRun(_ index: Int) -> Bool {
        inner.withLock { !$0.stopping && index < $0.share.users }
    }

    /// Takes a ticket from the request budget and marks a request in flight. False when the budget is spent.
    func beginRequest() -> (ok: Bool, stage: Int) {
        inner.withLock { state in
            guard !state.stopping else { return (false, state.share.stage) }
            if let budget = state.share.requestBudget, state.ticketsTaken >= budget { return (false, state.share.stage) }
            state.ticketsTaken += 1
            state.inFlight += 1
            return (true, state.share.stage)
        }
    }

    /// Ends a request: counts it, unless the run is stopping and it was cancelled.
    func endRequest(_ record: RequestRecord?) {
        inner.withLock { state in
            state.inFlight -= 1
            guard var record else { return }
            record.id = state.nextRecordId
            record.worker = workerId
            state.nextRecordId += 1
            // A request belongs to the interval in which it ended, whenever the cut happens.
            let interval = self.interval(ofNs: record.endNs)
            state.pending[interval, default: [:]][record.stage, default: MetricSet()].record(record)
            if collectRecords { state.pendingRecords[interval, default: []].append(record) }
        }
    }

    /// The run-clock interval that holds `ns` (0 for times before the run).
    func interval(ofNs ns: Int64) -> Int {
        Int(max(0, ns) / intervalNs)
    }

    var budgetSpentAndIdle: Bool {
        inner.withLock { state in
            guard let budget = state.share.requestBudget else { return false }
            return state.ticketsTaken >= budget && state.inFlight == 0
        }
    }

    /// Queues one delta for every interval up to `through` that holds requests not yet sent, oldest
    /// first, and one for `through` itself even when it is empty (it carries the user count), all
    /// under the lock, so deltas leave in `seq` order. `final` sends everything pending and marks the
    /// last delta final. Each interval is the one its requests ended in, so the series a coordinator
    /// builds counts each request in the second it finished, however late the cut runs.
    func cut(through: Int, final: Bool, to emitter: AsyncStream<IntervalDelta>.Continuation) {
        inner.withLock { state in
            let exhausted = state.share.requestBudget.map { state.ticketsTaken >= $0 && state.inFlight == 0 } ?? false
            if exhausted { state.exhaustedReported = true }
            var intervals = Set(state.pending.keys).union(state.pendingRecords.keys).filter { final || $0 <= through }
            intervals.insert(final ? max(through, intervals.max() ?? through) : through)
            let ordered = intervals.sorted()
            for (position, interval) in ordered.enumerated() {
                let start = Int64(interval) * intervalNs
                let last = position == ordered.count - 1
                let delta = IntervalDelta(worker: workerId, seq: state.seq, interval: interval, startNs: start, endNs: start + intervalNs,
                                          users: final ? 0 : state.alive.count, inFlight: final ? 0 : state.inFlight,
                                          stages: state.pending.removeValue(forKey: interval) ?? [:], final: final && last,
                                          exhausted: exhausted, records: state.pendingRecords.removeValue(forKey: interval) ?? [])
                state.seq += 1
                emitter.yield(delta)
            }
        }
    }
}
