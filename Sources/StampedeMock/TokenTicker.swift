import StampedeCore

/// Paces one response's tokens: says which token indices are due, waiting until they are.
///
/// `.fixed` timing: token k is due at `arrival + ttft + k·itl` (plus jitter per delay), against absolute
/// deadlines on `ContinuousClock`, awaited on the mock's one shared `DeadlineScheduler` (no timer of its
/// own, no polling for shutdown: the scheduler's shutdown resumes every waiter at once). Every token
/// already due is returned at once, so an ITL of 0 never sleeps and a response that fell behind catches
/// up in one write.
/// `.engine` timing: one token per engine step, as `BatchEngine` emits them.
struct TokenTicker {
    /// The most tokens handed out at once (one write).
    static let maxBatch = 256

    let total: Int
    private(set) var emitted = 0

    private let clock = ContinuousClock()
    private let shutdown: ShutdownFlag
    private let scheduler: DeadlineScheduler
    // Fixed timing.
    private var deadline: ContinuousClock.Instant
    private let itl: Duration
    private let jitterMs: Double
    private var rng: SplitMix64
    // Engine timing.
    private let engine: BatchEngine?
    private var sequenceID: UInt64 = 0
    private var iterator: AsyncStream<Int>.Iterator?

    /// Paces `total` tokens of a request that arrived at `arrival`.
    init(timing: MockConfig.Timing, engine: BatchEngine?, scheduler: DeadlineScheduler, shutdown: ShutdownFlag,
         jitterMs: Double, seed: UInt64, arrival: ContinuousClock.Instant, inputTokens: Int, total: Int) async {
        self.total = total
        self.shutdown = shutdown
        self.scheduler = scheduler
        self.jitterMs = jitterMs
        self.rng = SplitMix64(seed: seed ^ 0x4A17_7E55_0000_0000)
        switch timing {
        case .fixed(let ttft, let itl):
            self.engine = nil
            self.itl = itl
            self.deadline = arrival
            self.deadline = arrival + ttft + nextJitter()
        case .engine:
            self.itl = .zero
            self.deadline = arrival
            self.engine = engine
            if let engine, total > 0 {
                let (id, tokens) = await engine.submit(inputTokens: inputTokens, outputTokens: total)
                self.sequenceID = id
                self.iterator = tokens.makeAsyncIterator()
            }
        }
    }

    private mutating func nextJitter() -> Duration {
        guard jitterMs > 0 else { return .zero }
        return .nanoseconds(Int64(rng.nextUnitDouble() * jitterMs * 1e6))
    }

    /// The next indices due, or nil once all `total` have been handed out. Throws `CancellationError`
    /// when the task is cancelled or the server shuts down while waiting.
    mutating func next() async throws -> Range<Int>? {
        guard emitted < total else { return nil }
        let start = emitted
        if engine != nil {
            guard await iterator?.next() != nil else {
                throw CancellationError() // cancelled, or the engine was shut down
            }
            emitted += 1
            return start..<emitted
        }
        if deadline > clock.now {
            try await sleepUntilDeadline()
        } else {
            // Nothing to wait for: let other tasks run between batches all the same.
            await Task.yield()
            try Task.checkCancellation()
            if shutdown.isRaised { throw CancellationError() }
        }
        let now = clock.now
        repeat {
            emitted += 1
            deadline += itl + nextJitter()
        } while emitted < total && deadline <= now && emitted - start < Self.maxBatch
        return start..<emitted
    }

    /// Waits until every token is due (non-streamed replies).
    mutating func waitForAll() async throws {
        guard emitted < total else { return }
        if engine != nil {
            while try await next() != nil {}
            return
        }
        let remaining = total - emitted - 1
        for _ in 0..<remaining { deadline += itl + nextJitter() }
        emitted = total
        try await sleepUntilDeadline()
    }

    /// Waits on the shared scheduler until `deadline`; it throws on cancellation and on shutdown.
    private func sleepUntilDeadline() async throws {
        if shutdown.isRaised { throw CancellationError() }
        try await scheduler.sleep(until: deadline)
        if shutdown.isRaised { throw CancellationError() }
    }

    /// Frees the engine slot of a response that stops early. Idempotent.
    func cancel() async {
        if let engine { await engine.cancel(sequenceID) }
    }
}
