/// The output-length check of a scenario (pure): whether each answer had as many tokens as it was asked for.
///
/// - A request *expects its full length* when `--extra-body` asks the server not to stop early:
///   `"ignore_eos": true`, or `"min_tokens"` (vLLM, SGLang) above 0. Such an answer with fewer output
///   tokens than its `max_tokens` is a **short output** (`RequestRecord.shortOutput`), counted apart.
/// - `--min-output-ratio R` (0 < R ≤ 1) fails a request whose output tokens are below R × `max_tokens`,
///   with `ErrorClass.shortOutput`, whatever the extra body says; such a request is a short output too.
///
/// Only answers that otherwise succeeded are judged: a broken stream is already a failure of its own class.
public struct OutputLengthCheck: Sendable, Equatable {
    /// `ignore_eos: true` or `min_tokens > 0` in the extra body.
    public var expectsFullLength: Bool
    /// `--min-output-ratio` (nil: off).
    public var minOutputRatio: Double?

    public init(expectsFullLength: Bool, minOutputRatio: Double? = nil) {
        self.expectsFullLength = expectsFullLength
        self.minOutputRatio = minOutputRatio
    }

    public init(scenario: Scenario) {
        self.init(expectsFullLength: Self.expectsFullLength(scenario.extraBody), minOutputRatio: scenario.minOutputRatio)
    }

    /// Whether nothing is ever judged (no full length asked, no ratio).
    public var isOff: Bool { !expectsFullLength && minOutputRatio == nil }

    /// Whether an extra body asks the server to generate all `max_tokens` tokens.
    public static func expectsFullLength(_ extraBody: JSONValue?) -> Bool {
        guard let object = extraBody?.objectValue else { return false }
        if case .bool(true)? = object["ignore_eos"] { return true }
        if case .number(let minTokens)? = object["min_tokens"], minTokens > 0 { return true }
        return false
    }

    /// Marks a succeeded record that came back short, and fails it when it is below the ratio.
    public func judge(_ record: inout RequestRecord) {
        guard !isOff, record.succeeded, record.requestedOutputTokens > 0 else { return }
        let output = record.outputTokens, requested = record.requestedOutputTokens
        if let ratio = minOutputRatio, Double(output) < ratio * Double(requested) {
            record.shortOutput = true
            record.errorClass = .shortOutput
            record.errorMessage = "\(output) output tokens, fewer than --min-output-ratio \(ratio) x max_tokens \(requested)"
            return
        }
        if expectsFullLength, output < requested { record.shortOutput = true }
    }
}
