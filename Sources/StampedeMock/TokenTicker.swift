import StampedeCore

/// Paces one response's tokens: says which token indices are due, waiting until they are.
///
/// `.fixed` timing: token k is due at `arrival + ttft + k·itl` (plus jitter per delay), against absolute
/// deadlines on `ContinuousClock`. Every token already due is returned at once, so an ITL of 0 never
/// sleeps and a response that fell behind catches up in one write.
/// `.engine` timing: one token per engine step, as `BatchEngine` emits them.
struct TokenTicker {
    /// The most tokens handed out at once (one write).
    static let maxBatch = 256
    /// Sleeps longer than this are cut into slices, checking for shutdown between them.
    static let shutdownCheckInterval = Duration.milliseconds(100)

    let total: Int
    private(set) var emitted = 0

    private let clock = ContinuousClock()
    private let shutdown: ShutdownFlag
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
    init(timing: MockConfig.Timing, engine: BatchEngine?, shutdown: ShutdownFlag, jitterMs: Double, seed: UInt64,
         arrival: ContinuousClock.Instant, inputTokens: Int, total: Int) async {
        self.total = total
        self.shutdown = shutdown
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

    /// Sleeps until `deadline`, in slices when it is far, so that a shutdown is noticed within one slice.
    private func sleepUntilDeadline() async throws {
        while true {
            if shutdown.isRaised { throw CancellationError() }
            let sliceEnd = clock.now + Self.shutdownCheckInterval
            if deadline <= sliceEnd { break }
            try await Task.sleep(until: sliceEnd, clock: clock)
        }
        try await Task.sleep(until: deadline, clock: clock)
        if shutdown.isRaised { throw CancellationError() }
    }

    /// Frees the engine slot of a response that stops early. Idempotent.
    func cancel() async {
        if let engine { await engine.cancel(sequenceID) }
    }
}
