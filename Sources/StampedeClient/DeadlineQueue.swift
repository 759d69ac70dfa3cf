import Synchronization

/// Every request's timeout on one task. NIO's scheduled tasks cancel by a linear search of the
/// event loop's queue, and a cancelled `Task.sleep` keeps its timer until its deadline: with a timer
/// per request, stopping 200,000 queued users spent 40% of the CPU in that search, and a 600 s
/// timeout held ~0.75 KB per request. The deadlines of one client share one timeout, so they are
/// added in time order: a FIFO queue serves them, one task sleeps until the first live one (its sleep
/// is never cancelled), and cancelling a deadline is one dictionary removal.
///
/// Sendable: its only stored property is a `Mutex`.
final class DeadlineQueue: Sendable {
    private struct State {
        /// Deadlines in the order added (equal timeouts: time order); cancelled ones are skipped.
        var order: [(deadline: ContinuousClock.Instant, id: UInt64)] = []
        var head = 0
        var actions: [UInt64: @Sendable () -> Void] = [:]
        var nextId: UInt64 = 0
        var running = false

        /// Drops consumed and cancelled entries once they are most of the queue, so cancelled
        /// deadlines do not pile up until their time.
        mutating func compact() {
            let queued = order.count - head
            guard queued > 1024, queued > 2 * actions.count else { return }
            order = order[head...].filter { actions[$0.id] != nil }
            head = 0
        }
    }

    private let state = Mutex(State())

    /// Runs `action` at `deadline` unless cancelled first. Returns the id to cancel it with.
    func add(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, start) = state.withLock { state -> (UInt64, Bool) in
            let id = state.nextId
            state.nextId &+= 1
            state.order.append((deadline, id))
            state.actions[id] = action
            state.compact()
            defer { state.running = true }
            return (id, !state.running)
        }
        if start { Task.detached { await self.run() } }
        return id
    }

    func cancel(_ id: UInt64) {
        _ = state.withLock { $0.actions.removeValue(forKey: id) }
    }

    /// Deadlines still pending (for tests).
    var pending: Int { state.withLock { $0.actions.count } }

    private func run() async {
        while true {
            let (due, next) = state.withLock { state -> ([@Sendable () -> Void], ContinuousClock.Instant?) in
                let now = ContinuousClock.now
                var due: [@Sendable () -> Void] = []
                while state.head < state.order.count {
                    let entry = state.order[state.head]
                    guard let action = state.actions[entry.id] else {
                        state.head += 1
                        continue
                    }
                    guard entry.deadline <= now else { break }
                    state.head += 1
                    state.actions[entry.id] = nil
                    due.append(action)
                }
                guard state.head < state.order.count else {
                    state.order.removeAll(keepingCapacity: true)
                    state.head = 0
                    state.running = false
                    return (due, nil)
                }
                return (due, state.order[state.head].deadline)
            }
            for action in due { action() }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }
}
