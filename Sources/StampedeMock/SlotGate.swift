/// Fixed-delay mode's capacity (`--max-batch` with `--ttft-ms/--itl-ms`): at most `slots`
/// generations at once; the rest wait in arrival order, and their delays start when they get a
/// slot. The simplest honest target with a knee: below `slots` requests each takes its fixed time,
/// above it they queue.
actor SlotGate {
    let slots: Int
    private var busy = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextId: UInt64 = 0

    init(slots: Int) {
        self.slots = max(1, slots)
    }

    /// Requests waiting for a slot.
    var queued: Int { waiters.count }

    /// Takes a slot, waiting in FIFO order for one. Throws `CancellationError` when cancelled while waiting.
    func acquire() async throws {
        if busy < slots, waiters.isEmpty {
            busy += 1
            return
        }
        let id = nextId
        nextId += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// Gives a slot back: to the longest waiter, if any.
    func release() {
        if waiters.isEmpty {
            busy = max(0, busy - 1)
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    private func cancel(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
