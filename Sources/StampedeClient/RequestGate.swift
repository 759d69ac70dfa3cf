import Synchronization

/// At most `limit` requests hold or wait for a connection in AsyncHTTPClient's pools; the rest wait
/// here, first come first served. A waiter that is cancelled leaves in O(1): AsyncHTTPClient's own
/// queue removes a cancelled request by a linear search, so stopping a million queued users took
/// quadratic time there.
///
/// Sendable: its only stored properties are a constant and a `Mutex`.
final class RequestGate: Sendable {
    private struct State {
        var available: Int
        /// Waiters by ticket; `order` holds the tickets in arrival order from `head` on, including
        /// ones already gone (cancelled), which `release` skips.
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var order: [UInt64] = []
        var head = 0
        var nextTicket: UInt64 = 0

        /// Drops the consumed front of `order` once it is most of the array.
        mutating func compact() {
            if head > 1024, head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    let limit: Int
    private let state: Mutex<State>

    init(limit: Int) {
        self.limit = max(1, limit)
        state = Mutex(State(available: max(1, limit)))
    }

    /// Takes a place: at once when one is free and nobody waits, else when one is released to this
    /// caller. False when the task was cancelled while waiting (it holds no place then).
    func acquire() async -> Bool {
        let ticket: UInt64? = state.withLock { state in
            if state.available > 0, state.waiters.isEmpty {
                state.available -= 1
                return nil
            }
            defer { state.nextTicket &+= 1 }
            return state.nextTicket
        }
        guard let ticket else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let cancelled = state.withLock { state -> Bool in
                    // A cancellation that ran before the waiter was stored found nothing to resume.
                    if Task.isCancelled { return true }
                    state.waiters[ticket] = continuation
                    state.order.append(ticket)
                    return false
                }
                if cancelled { continuation.resume(returning: false) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume(returning: false)
        }
    }

    /// Gives a place back: to the longest waiter still waiting, else to the pool of free places.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            while state.head < state.order.count {
                let ticket = state.order[state.head]
                state.head += 1
                if let waiter = state.waiters.removeValue(forKey: ticket) {
                    state.compact()
                    return waiter
                }
            }
            state.order.removeAll(keepingCapacity: true)
            state.head = 0
            state.available += 1
            return nil
        }
        next?.resume(returning: true)
    }

    /// Callers waiting now.
    var waiting: Int { state.withLock { $0.waiters.count } }
}
