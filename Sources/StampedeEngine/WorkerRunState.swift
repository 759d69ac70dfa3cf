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
        var current: [Int: MetricSet] = [:]
        var records: [RequestRecord] = []
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

    init(workerId: String, share: WorkerShare, generation: Int, collectRecords: Bool) {
        self.workerId = workerId
        self.collectRecords = collectRecords
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
        inner.withLock { state in
            guard state.partitions.owns(index, atNs: ns) else { return .notMine }
            guard !state.stopping else { return .spent }
            if let budget = state.share.requestBudget, state.ticketsTaken >= budget { return .spent }
            if let cap = state.share.maxInFlight, state.inFlight >= cap {
                state.current[stage, default: MetricSet()].counters.droppedArrivals += 1
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
            state.current[record.stage, default: MetricSet()].record(record)
            if collectRecords { state.records.append(record) }
        }
    }

    var budgetSpentAndIdle: Bool {
        inner.withLock { state in
            guard let budget = state.share.requestBudget else { return false }
            return state.ticketsTaken >= budget && state.inFlight == 0
        }
    }

    /// Cuts the delta of everything recorded since the previous cut and queues it on `emitter`
    /// while still holding the lock, so deltas are queued in `seq` order.
    func cut(interval: Int, startNs: Int64, endNs: Int64, final: Bool, to emitter: AsyncStream<IntervalDelta>.Continuation) {
        inner.withLock { state in
            let exhausted = state.share.requestBudget.map { state.ticketsTaken >= $0 && state.inFlight == 0 } ?? false
            if exhausted { state.exhaustedReported = true }
            let delta = IntervalDelta(worker: workerId, seq: state.seq, interval: interval, startNs: startNs, endNs: endNs,
                                      users: final ? 0 : state.alive.count, inFlight: final ? 0 : state.inFlight,
                                      stages: state.current, final: final, exhausted: exhausted, records: state.records)
            state.seq += 1
            state.current = [:]
            state.records = []
            emitter.yield(delta)
        }
    }
}
