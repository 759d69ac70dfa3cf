import StampedeCore

/// The continuous-batching step loop behind `.engine` timing (see `EngineProfile`).
///
/// Each submitted sequence gets an `AsyncStream` that receives one element per generated token. The loop
/// runs only while there are sequences; when the last one leaves it ends, and the next `submit` starts it
/// again, so an idle engine costs nothing.
actor BatchEngine {
    private struct Sequence {
        let id: UInt64
        let inputTokens: Int
        var remaining: Int
        let continuation: AsyncStream<Int>.Continuation
    }

    private let profile: EngineProfile
    private let jitterMs: Double
    private var rng: SplitMix64
    /// FIFO: `waiting[waitingHead...]` are queued.
    private var waiting: [Sequence] = []
    private var waitingHead = 0
    private var running: [Sequence] = []
    private var nextID: UInt64 = 0
    private var loop: Task<Void, Never>?
    private var isShutDown = false

    init(profile: EngineProfile, jitterMs: Double, seed: UInt64) {
        self.profile = profile
        self.jitterMs = jitterMs
        self.rng = SplitMix64(seed: seed ^ 0xE9E1_9E00_0000_0001)
    }

    /// Sequences waiting for a batch slot.
    var queuedCount: Int { waiting.count - waitingHead }
    /// Sequences being decoded.
    var runningCount: Int { running.count }

    /// Queues a sequence of `outputTokens` tokens. The stream yields once per token and finishes after the
    /// last one; dropping or cancelling its iteration frees the slot (call `cancel` to free it at once).
    func submit(inputTokens: Int, outputTokens: Int) -> (id: UInt64, tokens: AsyncStream<Int>) {
        let id = nextID
        nextID += 1
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .unbounded)
        guard outputTokens > 0, !isShutDown else {
            continuation.finish()
            return (id, stream)
        }
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination, let self {
                Task { await self.cancel(id) }
            }
        }
        waiting.append(Sequence(id: id, inputTokens: inputTokens, remaining: outputTokens, continuation: continuation))
        if loop == nil {
            loop = Task { await self.runLoop() }
        }
        return (id, stream)
    }

    /// Removes a sequence, queued or running. Idempotent.
    func cancel(_ id: UInt64) {
        if let index = running.firstIndex(where: { $0.id == id }) {
            running.remove(at: index).continuation.finish()
        } else if let index = waiting[waitingHead...].firstIndex(where: { $0.id == id }) {
            waiting.remove(at: index).continuation.finish()
        }
    }

    /// Ends every sequence and refuses new ones (server shutdown).
    func shutdown() {
        isShutDown = true
        for sequence in running { sequence.continuation.finish() }
        for sequence in waiting[waitingHead...] { sequence.continuation.finish() }
        running.removeAll()
        waiting.removeAll()
        waitingHead = 0
    }

    private func popWaiting() -> Sequence? {
        guard waitingHead < waiting.count else { return nil }
        let next = waiting[waitingHead]
        waitingHead += 1
        if waitingHead >= 1024, waitingHead * 2 >= waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
        return next
    }

    /// One step per iteration: admit from the queue, sleep for prefill + decode, emit a token to every
    /// running sequence. Deadlines are absolute, so sleep overshoot does not accumulate.
    private func runLoop() async {
        let clock = ContinuousClock()
        var stepStart = clock.now
        while !running.isEmpty || queuedCount > 0 {
            var prefillMs = 0.0
            while running.count < profile.maxBatch, let next = popWaiting() {
                prefillMs += Double(next.inputTokens) * profile.prefillMsPerInputToken
                running.append(next)
            }
            let batch = running.count
            var stepMs = prefillMs + profile.decodeMsPerStep * (1 + profile.batchSlowdown * Double(batch - 1))
            if jitterMs > 0 { stepMs += rng.nextUnitDouble() * jitterMs }
            let deadline = stepStart.advanced(by: .nanoseconds(Int64(stepMs * 1e6)))
            // The loop is an unstructured task that nobody cancels; sleep cannot fail here.
            try? await Task.sleep(until: deadline, clock: clock)

            // `cancel` may have removed sequences while we slept; emit to those still running.
            var index = 0
            while index < running.count {
                running[index].remaining -= 1
                running[index].continuation.yield(running[index].remaining)
                if running[index].remaining == 0 {
                    running.remove(at: index).continuation.finish()
                } else {
                    index += 1
                }
            }
            let now = clock.now
            // Stay on the schedule unless we fell more than a few ms behind it (an overloaded host).
            stepStart = now - deadline > .milliseconds(5) ? now : deadline
            // A request submitted while a step runs waits for the next step boundary, as in vLLM's
            // scheduler; one that finds the engine idle starts a step at once.
        }
        loop = nil
    }
}
