/// How the simulated server behaves: timing model, injected faults, output shape.
public struct MockConfig: Sendable, Equatable {
    public enum Timing: Sendable, Equatable {
        /// Exact delays for tests: first token after `ttft`, then one token every `itl`. No batching/queueing.
        /// Every request is timed on its own, from its arrival, against absolute deadlines (no drift).
        case fixed(ttft: Duration, itl: Duration)
        /// Continuous batching: one step loop shared by all requests (see `EngineProfile`).
        case engine(EngineProfile)
    }

    public var timing: Timing
    /// Each delay gets `+ uniform[0, jitterMs]` ms: every token's delay in `.fixed`, every step in `.engine`.
    public var jitterMs: Double
    /// Fraction of generation requests answered 500 with a JSON error body, before streaming starts.
    public var error500Rate: Double
    /// Fraction answered 429 (JSON error body, `Retry-After: 1`), before streaming starts.
    public var error429Rate: Double
    /// Fraction whose response is cut after about half the tokens: the connection closes, no `[DONE]`, no final event.
    public var abortRate: Double
    /// Fraction that emit an `{"error": ...}` SSE event after about half the tokens, then end the response.
    public var streamErrorRate: Double
    /// Chat dialect only: this many `reasoning_content` chunks come before the answer. They are emitted in
    /// addition to the `max_tokens` answer chunks and, as vLLM does, count in `usage.completion_tokens`
    /// (so `completion_tokens = reasoningTokens + max_tokens`, matching the number of token-bearing chunks).
    public var reasoningTokens: Int
    /// Output tokens when the request gives no `max_tokens` / `max_completion_tokens` / `max_new_tokens`.
    public var defaultMaxTokens: Int
    /// Seeds fault draws (in arrival order), generated words, ids and jitter.
    public var seed: UInt64
    /// The model the server lists in `/v1/models` and names in responses when the request names none.
    public var model: String
    /// `.fixed` timing only: at most this many generations at once; more wait in FIFO order for a
    /// slot, and their delays start when they get one (nil: no limit).
    public var fixedSlots: Int?

    public init(timing: Timing = .engine(.llama70b), jitterMs: Double = 0, error500Rate: Double = 0,
                error429Rate: Double = 0, abortRate: Double = 0, streamErrorRate: Double = 0,
                reasoningTokens: Int = 0, defaultMaxTokens: Int = 128, seed: UInt64 = 0,
                model: String = "stampede-mock", fixedSlots: Int? = nil) {
        self.timing = timing
        self.jitterMs = jitterMs
        self.error500Rate = error500Rate
        self.error429Rate = error429Rate
        self.abortRate = abortRate
        self.streamErrorRate = streamErrorRate
        self.reasoningTokens = reasoningTokens
        self.defaultMaxTokens = defaultMaxTokens
        self.seed = seed
        self.model = model
        self.fixedSlots = fixedSlots
    }

    /// Checks the values a command line can get wrong; `MockServer.start` calls it.
    public func validate() throws(MockConfigError) {
        for (name, rate) in [("error500Rate", error500Rate), ("error429Rate", error429Rate),
                             ("abortRate", abortRate), ("streamErrorRate", streamErrorRate)] {
            guard rate >= 0, rate <= 1 else { throw MockConfigError("\(name) must be between 0 and 1 (got \(rate))") }
        }
        guard jitterMs >= 0, jitterMs.isFinite else { throw MockConfigError("jitterMs must be a non-negative number (got \(jitterMs))") }
        guard reasoningTokens >= 0 else { throw MockConfigError("reasoningTokens must not be negative (got \(reasoningTokens))") }
        guard defaultMaxTokens >= 1 else { throw MockConfigError("defaultMaxTokens must be at least 1 (got \(defaultMaxTokens))") }
        guard !model.isEmpty else { throw MockConfigError("model must not be empty") }
        switch timing {
        case .fixed(let ttft, let itl):
            guard ttft >= .zero, itl >= .zero else { throw MockConfigError("ttft and itl must not be negative") }
            if let fixedSlots, !(1...1_000_000).contains(fixedSlots) {
                throw MockConfigError("maxBatch must be between 1 and 1000000 (got \(fixedSlots))")
            }
        case .engine(let profile):
            try profile.validate()
        }
    }
}

/// A continuous-batching engine, as vLLM or TGI run one: the engine decodes up to `maxBatch` sequences
/// together, one token per sequence per step. Requests past `maxBatch` wait FIFO for a slot. The step in
/// which a request is admitted also does its prefill (`inputTokens × prefillMsPerInputToken`), which
/// delays every running sequence. A step takes `decodeMsPerStep × (1 + batchSlowdown × (batch − 1))`.
public struct EngineProfile: Sendable, Equatable {
    public var prefillMsPerInputToken: Double
    public var decodeMsPerStep: Double
    /// Sequences decoded together; extra requests queue (FIFO).
    public var maxBatch: Int
    /// A step takes `decodeMsPerStep × (1 + batchSlowdown × (batch − 1))`.
    public var batchSlowdown: Double

    public init(prefillMsPerInputToken: Double = 0.5, decodeMsPerStep: Double = 45, maxBatch: Int = 32,
                batchSlowdown: Double = 0.01) {
        self.prefillMsPerInputToken = prefillMsPerInputToken
        self.decodeMsPerStep = decodeMsPerStep
        self.maxBatch = maxBatch
        self.batchSlowdown = batchSlowdown
    }

    /// Llama-2-70B-like at low load: about 0.5 ms per input token and 45 ms per output token.
    public static let llama70b = EngineProfile()

    func validate() throws(MockConfigError) {
        guard maxBatch >= 1 else { throw MockConfigError("maxBatch must be at least 1 (got \(maxBatch))") }
        for (name, value) in [("prefillMsPerInputToken", prefillMsPerInputToken), ("decodeMsPerStep", decodeMsPerStep),
                              ("batchSlowdown", batchSlowdown)] {
            guard value >= 0, value.isFinite else { throw MockConfigError("\(name) must be a non-negative number (got \(value))") }
        }
    }
}

/// An invalid `MockConfig` value.
public struct MockConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Counters served at `GET /stats` and by `RunningMock.stats()`.
public struct MockStats: Sendable, Codable, Equatable {
    /// Requests to the generation endpoints (chat, completions, TGI), bad ones included.
    public var requestsReceived: Int
    /// Generation requests being answered now (streaming or waiting for a non-streamed reply), queued ones excluded.
    public var activeStreams: Int
    /// Requests waiting for a batch slot (`.engine` timing only).
    public var queued: Int
    /// Generations that delivered all their tokens and ended normally.
    public var completed: Int

    public init(requestsReceived: Int = 0, activeStreams: Int = 0, queued: Int = 0, completed: Int = 0) {
        self.requestsReceived = requestsReceived
        self.activeStreams = activeStreams
        self.queued = queued
        self.completed = completed
    }
}
