/// One request the workload wants sent: what `PromptFactory` plans (StampedeWorkload), what a
/// `RequestExecutor` sends (StampedeEngine), what `StreamingClient` puts on the wire (StampedeClient).
/// One type for all three, so nothing is copied field by field between layers.
public struct PlannedRequest: Sendable, Equatable {
    /// The full prompt text (correctness instruction, if any, then the LLMPerf-style header and verse).
    public var prompt: String
    /// `max_tokens` to send: the drawn output length.
    public var maxTokens: Int
    /// `TokenEstimator.estimate(prompt)`.
    public var inputTokensEstimate: Int
    /// The drawn input length the prompt was built to reach (the estimate when not planned from a draw).
    public var targetInputTokens: Int
    /// The number the correctness check expects in the reply; nil when the check is off.
    /// When set, `record.correct` tells whether the answer contains it.
    public var expectedNumber: Int?

    public init(prompt: String, maxTokens: Int, inputTokensEstimate: Int, targetInputTokens: Int? = nil, expectedNumber: Int? = nil) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.inputTokensEstimate = inputTokensEstimate
        self.targetInputTokens = targetInputTokens ?? inputTokensEstimate
        self.expectedNumber = expectedNumber
    }
}
