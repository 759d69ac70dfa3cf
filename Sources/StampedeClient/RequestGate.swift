import Synchronization

/// At most `limit` requests hold or wait for a connection in AsyncHTTPClient's pools; the rest wait
/// here, first come first served. A waiter that is cancelled leaves in O(1): AsyncHTTPClient's own
/// queue removes a cancelled request by a linear search, so stopping a million queued users took
/// quadratic time there.
///
/// Sendable: its only stored properties are a constant and a `Mutex`.
final class RequestGate: Sendable {
    private struct State {
        /// Places given back, the last one on top: the next request takes the place (and the pool,
        /// and likely the idle connection) used last.
        var free: [Int] = []
        /// Places below this have been handed out at least once.
        var fresh = 0
        /// Waiters by ticket; `order` holds the tickets in arrival order from `head` on, including
        /// ones already gone (cancelled), which `release` skips.
        var waiters: [UInt64: CheckedContinuation<Int?, Never>] = [:]
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
        state = Mutex(State())
    }

    /// Takes a place, a number in `0..<limit` that no other holder has: at once when one is free and
    /// nobody waits, else when one is released to this caller. Nil when the task was cancelled while
    /// waiting (it holds no place then).
    func acquire() async -> Int? {
        let (place, ticket) = state.withLock { state -> (Int?, UInt64) in
            if state.waiters.isEmpty {
                if let place = state.free.popLast() { return (place, 0) }
                if state.fresh < limit {
                    defer { state.fresh += 1 }
                    return (state.fresh, 0)
                }
            }
            defer { state.nextTicket &+= 1 }
            return (nil, state.nextTicket)
        }
        if let place { return place }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
                let cancelled = state.withLock { state -> Bool in
                    // A cancellation that ran before the waiter was stored found nothing to resume.
                    if Task.isCancelled { return true }
                    state.waiters[ticket] = continuation
                    state.order.append(ticket)
                    return false
                }
                if cancelled { continuation.resume(returning: nil) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume(returning: nil)
        }
    }

    /// Gives a place back: to the longest waiter still waiting, else to the free places.
    func release(_ place: Int) {
        let next = state.withLock { state -> CheckedContinuation<Int?, Never>? in
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
            state.free.append(place)
            return nil
        }
        next?.resume(returning: place)
    }

    /// Callers waiting now.
    var waiting: Int { state.withLock { $0.waiters.count } }
}
