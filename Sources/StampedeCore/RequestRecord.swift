/// One request, as the worker saw it. Times are nanoseconds on the worker's monotonic clock,
/// counted from the start of the run on that worker (its `runEpoch`).
///
/// In a closed loop `scheduledNs == sendNs`; in an open loop `scheduledNs` is when the arrival
/// process wanted the request to go out, and every latency is measured from it (coordinated omission).
public struct RequestRecord: Codable, Sendable, Equatable {
    /// Per-worker sequence number, from 0.
    public var id: UInt64
    /// The user (closed loop) or arrival slot (open loop) that sent it.
    public var user: Int
    /// The worker that sent it; filled in by the worker.
    public var worker: String?
    /// The stage index (0 when the run has no stages).
    public var stage: Int

    public var scheduledNs: Int64
    public var sendNs: Int64
    /// First response byte (headers received).
    public var firstByteNs: Int64?
    /// First token-bearing chunk, reasoning tokens included.
    public var firstTokenNs: Int64?
    /// First chunk that carries answer (non-reasoning) content.
    public var firstAnswerTokenNs: Int64?
    /// Arrival time of each token-bearing chunk, in order.
    public var tokenChunkNs: [Int64]
    /// When the request ended: `[DONE]`, the final TGI event, an error, or the timeout.
    public var endNs: Int64

    /// The client's estimate of the prompt's tokens (see `TokenEstimator`).
    public var inputTokensEstimate: Int
    /// Input tokens: the server's count when it gave one, else the estimate.
    public var inputTokens: Int
    /// Output tokens: the server's count when it gave one, else the number of token-bearing chunks.
    public var outputTokens: Int
    /// Where `outputTokens` (and `inputTokens`, for `usage`) came from.
    public var tokenSource: TokenCountSource
    /// `max_tokens` sent with the request.
    public var requestedOutputTokens: Int

    /// HTTP status, when a response arrived.
    public var status: Int?
    /// Set when the request failed.
    public var errorClass: ErrorClass?
    /// A short message for a failure, never containing the API key.
    public var errorMessage: String?
    /// The correctness check's result, when one was asked for.
    public var correct: Bool?
    /// The answer had fewer output tokens than `max_tokens` while all of them were asked for
    /// (`ignore_eos` or `min_tokens`), or fewer than `--min-output-ratio` allows (see `OutputLengthCheck`).
    public var shortOutput: Bool?
    /// Whether the request met every per-request bound of the scenario's SLO (nil: no SLO).
    public var sloMet: Bool?
    /// What the request cost under the scenario's per-token prices, micro-USD (nil: no such prices).
    public var costMicroUSD: Double?

    public init(id: UInt64 = 0, user: Int = 0, worker: String? = nil, stage: Int = 0,
                scheduledNs: Int64, sendNs: Int64, firstByteNs: Int64? = nil, firstTokenNs: Int64? = nil,
                firstAnswerTokenNs: Int64? = nil, tokenChunkNs: [Int64] = [], endNs: Int64,
                inputTokensEstimate: Int = 0, inputTokens: Int = 0, outputTokens: Int = 0,
                tokenSource: TokenCountSource = .chunks, requestedOutputTokens: Int = 0,
                status: Int? = nil, errorClass: ErrorClass? = nil, errorMessage: String? = nil, correct: Bool? = nil) {
        self.id = id
        self.user = user
        self.worker = worker
        self.stage = stage
        self.scheduledNs = scheduledNs
        self.sendNs = sendNs
        self.firstByteNs = firstByteNs
        self.firstTokenNs = firstTokenNs
        self.firstAnswerTokenNs = firstAnswerTokenNs
        self.tokenChunkNs = tokenChunkNs
        self.endNs = endNs
        self.inputTokensEstimate = inputTokensEstimate
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.tokenSource = tokenSource
        self.requestedOutputTokens = requestedOutputTokens
        self.status = status
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.correct = correct
    }

    public var succeeded: Bool { errorClass == nil }
}
