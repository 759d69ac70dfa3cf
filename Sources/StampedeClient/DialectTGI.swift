import Foundation
import StampedeCore

/// Hugging Face Text Generation Inference, `POST /generate_stream`.
///
/// Body: `{"inputs": prompt, "parameters": {"max_new_tokens": N, "details": true}}`. TGI has no
/// top-level options, so `extraBody`'s keys are merged into `parameters` (its keys win), e.g.
/// `--extra-body '{"temperature": 0.5}'` sends `"parameters": {"temperature": 0.5, …}`.
///
/// Every event is `{"index", "token": {"id", "text", "logprob", "special"}, "generated_text", "details"}`.
/// A token with `special == false` is a token-bearing chunk (special tokens such as EOS are not output
/// text). The final event (non-null `generated_text` or `details`) also carries the last token; it
/// ends the request at once, and its `details.generated_tokens` is the output count.
/// Errors arrive as `{"error": "…", "error_type": "…"}`.
public struct TGIDialect: Dialect {
    public init() {}

    public var api: APIDialect { .tgi }
    public var endMarker: String { "the final event" }

    public func requestBody(model: String, prompt: String, maxTokens: Int, extraBody: JSONValue?) -> JSONValue {
        .object([
            "inputs": .string(prompt),
            "parameters": DialectSupport.merge([
                "max_new_tokens": .number(Double(maxTokens)),
                "details": .bool(true),
            ], extraBody),
        ])
    }

    public func interpret(_ event: SSEEvent) -> DialectEvent {
        interpret(event, route: .fast)
    }

    public func interpret(_ event: SSEEvent, route: ParseRoute) -> DialectEvent {
        if route == .fast, let decided = DialectSupport.fastInterpret(event, Self.read) { return decided }
        switch DialectSupport.prepare(event) {
        case .answer(let answer):
            return answer
        case .object(let object):
            var chunk = StreamChunk()
            if let token = object["token"] as? [String: Any] {
                let special = token["special"] as? Bool ?? false
                if !special {
                    chunk.answer = DialectSupport.string(token["text"])
                    chunk.isToken = true
                    chunk.isAnswerToken = true
                }
            }
            let details = object["details"] as? [String: Any]
            if let details {
                chunk.generatedTokens = DialectSupport.int(details["generated_tokens"])
                if let reason = details["finish_reason"] as? String, !reason.isEmpty { chunk.finishReason = reason }
            }
            chunk.isFinal = object["generated_text"] is String || details != nil
            return .chunk(chunk)
        }
    }
}

extension TGIDialect {
    public func interpret(_ event: SSEEventBytes, keepingText: Bool) -> DialectEvent {
        DialectSupport.fastInterpret(event) { scanned throws(ChunkScanner.Undecided) in try Self.read(scanned, keepingText: keepingText) }
            ?? interpret(event.materialized, route: .foundation)
    }

    /// `read(scanned, keepingText: true)`.
    static func read(_ scanned: ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk {
        try read(scanned, keepingText: true)
    }

    /// A TGI event on the fast route; without `keepingText` its token text is not decoded.
    static func read(_ scanned: ScannedChunk, keepingText: Bool) throws(ChunkScanner.Undecided) -> StreamChunk {
        var chunk = StreamChunk()
        if scanned.isObject(.token), try !scanned.bool(.tokenSpecial) {
            if keepingText { chunk.answer = scanned.string(.tokenText) }
            chunk.isToken = true
            chunk.isAnswerToken = true
        }
        let hasDetails = scanned.isObject(.details)
        if hasDetails {
            chunk.generatedTokens = try scanned.int(.generatedTokens)
            chunk.finishReason = scanned.nonEmptyString(.detailsFinishReason)
        }
        if case .string = scanned[.generatedText] { chunk.isFinal = true }
        if hasDetails { chunk.isFinal = true }
        return chunk
    }
}
