import NIOCore
import Synchronization

/// Queues outbound messages for one connection; a single task drains it into the channel, so
/// writers never interleave and never block the load or the heartbeats.
struct Outbox: Sendable {
    let stream: AsyncStream<ClusterMessage>
    let continuation: AsyncStream<ClusterMessage>.Continuation
    private let drained = DrainSignal()

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: ClusterMessage.self, bufferingPolicy: .unbounded)
    }

    func send(_ message: ClusterMessage) { continuation.yield(message) }

    func close() { continuation.finish() }

    /// Writes queued messages until the outbox is closed or the channel fails.
    func drain(into outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>) async throws {
        defer { drained.fire() }
        for await message in stream { try await outbound.write(message) }
    }

    /// Returns once `drain` has written everything queued before `close` (or failed), or after `limit`.
    func flushed(within limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await drained.wait() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Fires once; waiters before and after it return. Sendable: its only stored property is a `Mutex`.
final class DrainSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextId = 0
    }

    private let state = Mutex(State())

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when fired, or when the task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            defer { state.nextId += 1 }
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
