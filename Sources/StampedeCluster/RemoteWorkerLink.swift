import StampedeCore
import StampedeEngine
import StampedeMetrics
import Synchronization

/// The coordinator's handle on a worker connected over TCP. Commands go out through the
/// connection's outbox; `stop` returns once the worker's `stopped` has been received after its
/// final stats were applied.
final class RemoteWorkerLink: WorkerLink {
    struct State {
        var runId: String?
        var cpuPercent: Double?
        var stopWaiter: CheckedContinuation<Void, any Error>?
        var stoppedSeq: UInt64?
        var closed = false
    }

    let workerId: String
    let host: String
    let cores: Int
    /// Random per worker process: the same id and instance on a new connection is a rejoin.
    let instance: String
    let outbox: Outbox
    /// Closes the connection (when a rejoin replaces it).
    let close: @Sendable () -> Void
    let state = Mutex(State())

    init(workerId: String, host: String, cores: Int, instance: String, outbox: Outbox, close: @escaping @Sendable () -> Void) {
        self.workerId = workerId
        self.host = host
        self.cores = cores
        self.instance = instance
        self.outbox = outbox
        self.close = close
    }

    struct Disconnected: Error, CustomStringConvertible {
        var description: String { "worker disconnected" }
    }

    func start(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, sink: any DeltaSink) async throws {
        try state.withLock { s in
            guard !s.closed else { throw Disconnected() }
            s.runId = assignment.runId
            s.stoppedSeq = nil
        }
        outbox.send(.start(assignment: assignment, epochNs: ProcessClock.ns(of: epoch)))
    }

    func update(_ share: WorkerShare, generation: Int) async throws {
        guard !state.withLock({ $0.closed }) else { throw Disconnected() }
        outbox.send(.setUsers(generation: generation, share: share))
    }

    func stop() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let action: (() -> Void)? = state.withLock { s in
                if s.closed { return { continuation.resume(throwing: Disconnected()) } }
                if s.stoppedSeq != nil { return { continuation.resume() } }
                s.stopWaiter = continuation
                return nil
            }
            if let action { action() } else { outbox.send(.stop(runId: state.withLock { $0.runId } ?? "")) }
        }
    }

    func info() async -> WorkerInfo {
        WorkerInfo(host: host, cores: cores, cpuPercent: state.withLock { $0.cpuPercent })
    }

    // MARK: Called by the connection

    func noteCPU(_ percent: Double?) {
        guard let percent else { return }
        state.withLock { $0.cpuPercent = percent }
    }

    /// The worker said `stopped`; every delta up to `lastSeq` has been applied by then.
    func noteStopped(lastSeq: UInt64) {
        let waiter = state.withLock { s in
            s.stoppedSeq = lastSeq
            defer { s.stopWaiter = nil }
            return s.stopWaiter
        }
        waiter?.resume()
    }

    func noteClosed() {
        let waiter = state.withLock { s in
            s.closed = true
            defer { s.stopWaiter = nil }
            return s.stopWaiter
        }
        waiter?.resume(throwing: Disconnected())
        outbox.close()
    }
}
