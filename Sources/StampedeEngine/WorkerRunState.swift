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
    }

    let inner: Mutex<Inner>
    let collectRecords: Bool
    let workerId: String

    init(workerId: String, share: WorkerShare, generation: Int, collectRecords: Bool) {
        self.workerId = workerId
        self.collectRecords = collectRecords
        inner = Mutex(Inner(share: share, generation: generation))
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
