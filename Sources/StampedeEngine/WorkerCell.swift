import StampedeCore
import StampedeMetrics
import Synchronization

/// One run's `WorkerMachine`, shared by the driver's tasks (the loop, the users, the ticker) and
/// its control calls (update, stop). Each method is one event: it runs the machine under the lock,
/// and wakes the loop when the event may change what the loop does next.
///
/// Sendable: its stored properties are a `Mutex`, a `Wakeup` (Sendable) and an
/// `AsyncStream.Continuation` (Sendable), and deltas are yielded under the lock, so they leave in `seq` order.
final class WorkerCell: Sendable {
    private let machine: Mutex<WorkerMachine>
    private let emitter: AsyncStream<IntervalDelta>.Continuation
    let wakeup = Wakeup()

    init(machine: WorkerMachine, emitter: AsyncStream<IntervalDelta>.Continuation) {
        self.machine = Mutex(machine)
        self.emitter = emitter
    }

    var stopping: Bool { machine.withLock { $0.stopping } }

    /// Run-clock time from which the current arrival partition applies (0 when none is set).
    var effectiveAtNs: Int64 { machine.withLock { $0.share.effectiveAtNs ?? 0 } }

    /// The rate as changed during the run, when it was (`WorkerShare.rateSegments`).
    var rateSegments: [RateSegment]? { machine.withLock { $0.share.rateSegments } }

    func update(_ share: WorkerShare, generation: Int) -> Bool {
        let applied = machine.withLock { $0.update(share, generation: generation) }
        if applied { wakeup.signal() }
        return applied
    }

    /// Stops the load at run-clock `runNs` (see `WorkerMachine.stop(atNs:)`).
    func stop(atNs runNs: Int64?) {
        machine.withLock { $0.stop(atNs: runNs) }
        wakeup.signal()
    }

    func nextSpawn(atNs ns: Int64) -> WorkerMachine.SpawnDecision {
        machine.withLock { $0.nextSpawn(atNs: ns) }
    }

    /// A user's next request: its ticket's stage and the user's global index (which seeds its
    /// prompts), or nil when the user stops.
    func beginRequest(_ index: Int) -> (stage: Int, globalUser: Int)? {
        machine.withLock { machine in
            guard machine.shouldRun(index), let stage = machine.beginRequest() else { return nil }
            return (stage, machine.share.userBase + index)
        }
    }

    func userEnded(_ index: Int) {
        machine.withLock { $0.userEnded(index) }
        // A user below the share's count may have to be replaced; the loop decides.
        wakeup.signal()
    }

    func admitArrival(_ index: UInt64, atNs ns: Int64, stage: Int) -> WorkerMachine.ArrivalDecision {
        machine.withLock { $0.admitArrival(index, atNs: ns, stage: stage) }
    }

    /// Ends a request that began (was scheduled) at `beganNs` in `stage` and, when it was the last of the
    /// budget, says so at once. A nil record: cancelled by the stop (see `WorkerMachine.endRequest`).
    func endRequest(_ record: RequestRecord?, stage: Int, beganNs: Int64, runNs: Int64) {
        machine.withLock { machine in
            machine.endRequest(record, stage: stage, beganNs: beganNs, nowNs: runNs)
            if machine.exhaustionDue { send(machine.cut(through: machine.interval(ofNs: runNs), final: false)) }
        }
    }

    /// Says "exhausted" when the budget is spent and nothing is in flight, unless already said.
    func reportExhaustionIfDue(runNs: Int64) {
        machine.withLock { machine in
            if machine.exhaustionDue { send(machine.cut(through: machine.interval(ofNs: runNs), final: false)) }
        }
    }

    /// The ticker's cut at the boundary that closes `interval`, with the generator's CPU reading.
    func cut(through interval: Int, final: Bool, cpu: (share: Double, allowanceCores: Double)? = nil) {
        machine.withLock { send($0.cut(through: interval, final: final, cpu: cpu)) }
    }

    func recordLoopLag(ns: Int64) {
        machine.withLock { $0.recordLoopLag(ns: ns) }
    }

    /// A cut through the interval that holds `runNs` (the final one).
    func cut(throughNs runNs: Int64, final: Bool) {
        machine.withLock { send($0.cut(through: $0.interval(ofNs: runNs), final: final)) }
    }

    private func send(_ deltas: [IntervalDelta]) {
        for delta in deltas { emitter.yield(delta) }
    }
}
