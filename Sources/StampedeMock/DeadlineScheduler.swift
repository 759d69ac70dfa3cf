/// One shared clock for every fixed-timing stream of a mock: a stream registers its next token's
/// deadline and awaits it; one timer, always set to the earliest deadline of all, wakes the due ones.
///
/// Before it, each stream slept on its own in 100 ms slices to notice a shutdown: 10,000 streams at an
/// ITL of 1 s meant 100,000 wake-ups a second for 10,000 tokens. Now the process wakes once per distinct
/// deadline, and a shutdown resumes every waiter at once. The data structure is `DeadlineHeap` (pure);
/// this actor only holds the continuations and the one timer task.
actor DeadlineScheduler {
    private let clock = ContinuousClock()
    private var heap = DeadlineHeap<ContinuousClock.Instant>()
    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextID: UInt64 = 0
    private var isShutDown = false
    /// The timer: sleeps until `timerDeadline`, then calls `fire(generation:)`.
    private var timer: Task<Void, Never>?
    private var timerDeadline: ContinuousClock.Instant?
    /// Tells a superseded timer's late `fire` apart from the current one's.
    private var timerGeneration: UInt64 = 0
    /// Timer wake-ups so far (for tests and measurements).
    private(set) var wakeUps = 0

    init() {}

    /// Entries waiting (a cancelled waiter is removed at once, so this counts live streams only).
    var pending: Int { heap.count }

    /// Returns at `deadline` (at once when it has passed). Throws `CancellationError` when the calling
    /// task is cancelled (its entry is removed) or the scheduler is shut down.
    func sleep(until deadline: ContinuousClock.Instant) async throws {
        if isShutDown { throw CancellationError() }
        try Task.checkCancellation()
        if deadline <= clock.now { return }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Runs on this actor, in the calling task: a cancellation that came before it is seen here,
                // one that comes after it finds the entry in `cancel`.
                if isShutDown || Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                waiters[id] = continuation
                heap.insert(id, deadline: deadline)
                armTimer()
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// Resumes every waiter with `CancellationError`; later `sleep`s throw at once.
    func shutdown() {
        isShutDown = true
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        _ = heap.removeAll()
        let all = waiters
        waiters.removeAll()
        for continuation in all.values { continuation.resume(throwing: CancellationError()) }
    }

    private func cancel(_ id: UInt64) {
        guard heap.cancel(id), let continuation = waiters.removeValue(forKey: id) else { return }
        continuation.resume(throwing: CancellationError())
        // The timer may now be early for the new earliest deadline; it then just finds nothing due.
    }

    /// Makes sure the timer wakes no later than the earliest deadline.
    private func armTimer() {
        guard let next = heap.nextDeadline else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let current = timerDeadline, current <= next { return }
        timer?.cancel()
        timerGeneration &+= 1
        let generation = timerGeneration
        timerDeadline = next
        let clock = clock
        // The task inherits this actor's isolation: it leaves the actor free while it sleeps.
        timer = Task {
            // A cancelled sleep returns early; a superseded timer is then ignored in `fire`.
            try? await Task.sleep(until: next, clock: clock)
            if Task.isCancelled { return }
            self.fire(generation: generation)
        }
    }

    private func fire(generation: UInt64) {
        guard generation == timerGeneration, !isShutDown else { return }
        wakeUps += 1
        timer = nil
        timerDeadline = nil
        for id in heap.popDue(now: clock.now) {
            waiters.removeValue(forKey: id)?.resume()
        }
        armTimer()
    }
}
