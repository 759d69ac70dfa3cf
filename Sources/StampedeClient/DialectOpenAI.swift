import Foundation
import StampedeCore

/// OpenAI-compatible `POST /v1/chat/completions` (vLLM, SGLang, TGI's Messages API, OpenAI).
///
/// Body: `{"model", "messages": [{"role": "user", "content": prompt}], "max_tokens", "stream": true,
/// "stream_options": {"include_usage": true}}` with `extraBody`'s keys written over it.
///
/// A chunk is token-bearing when `choices[0].delta.content` is non-empty (answer) or
/// `choices[0].delta.reasoning_content` / `choices[0].delta.reasoning` is non-empty (reasoning).
/// Role-only chunks, empty deltas and the usage-only chunk (`"choices": []`) carry no token.
public struct OpenAIChatDialect: Dialect {
    public init() {}

    public var api: APIDialect { .chat }
    public var endMarker: String { "[DONE]" }

    public func requestBody(model: String, prompt: String, maxTokens: Int, extraBody: JSONValue?) -> JSONValue {
        DialectSupport.merge([
            "model": .string(model),
            "messages": .array([.object(["role": .string("user"), "content": .string(prompt)])]),
            "max_tokens": .number(Double(maxTokens)),
            "stream": .bool(true),
            "stream_options": .object(["include_usage": .bool(true)]),
        ], extraBody)
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
            let choice = OpenAIReading.firstChoice(object)
            var chunk = OpenAIReading.common(object, choice)
            if let delta = choice?["delta"] as? [String: Any] {
                chunk.answer = DialectSupport.string(delta["content"])
                var reasoning = DialectSupport.string(delta["reasoning_content"])
                if reasoning.isEmpty { reasoning = DialectSupport.string(delta["reasoning"]) }
                chunk.reasoning = reasoning
                chunk.isAnswerToken = !chunk.answer.isEmpty
                chunk.isToken = chunk.isAnswerToken || !reasoning.isEmpty
            }
            return .chunk(chunk)
        }
    }
}

/// OpenAI-compatible `POST /v1/completions`.
///
/// Body: `{"model", "prompt", "max_tokens", "stream": true, "stream_options": {"include_usage": true}}`
/// with `extraBody`'s keys written over it. A chunk is token-bearing when `choices[0].text` is non-empty.
public struct OpenAICompletionsDialect: Dialect {
    public init() {}

    public var api: APIDialect { .completions }
    public var endMarker: String { "[DONE]" }

    public func requestBody(model: String, prompt: String, maxTokens: Int, extraBody: JSONValue?) -> JSONValue {
        DialectSupport.merge([
            "model": .string(model),
            "prompt": .string(prompt),
            "max_tokens": .number(Double(maxTokens)),
            "stream": .bool(true),
            "stream_options": .object(["include_usage": .bool(true)]),
        ], extraBody)
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
            let choice = OpenAIReading.firstChoice(object)
            var chunk = OpenAIReading.common(object, choice)
            if let choice {
                chunk.answer = DialectSupport.string(choice["text"])
                chunk.isAnswerToken = !chunk.answer.isEmpty
                chunk.isToken = chunk.isAnswerToken
            }
            return .chunk(chunk)
        }
    }
}

/// The parts of a chunk that chat and completions share.
enum OpenAIReading {
    static func firstChoice(_ object: [String: Any]) -> [String: Any]? {
        (object["choices"] as? [Any])?.first as? [String: Any]
    }

    /// `finish_reason` and `usage` (the last usage seen wins: with `continuous_usage_stats`, vLLM
    /// sends running totals on every chunk).
    static func common(_ object: [String: Any], _ choice: [String: Any]?) -> StreamChunk {
        var chunk = StreamChunk()
        if let reason = choice?["finish_reason"] as? String, !reason.isEmpty {
            chunk.finishReason = reason
        }
        if let usage = object["usage"] as? [String: Any] {
            chunk.usage = TokenUsage(promptTokens: DialectSupport.int(usage["prompt_tokens"]),
                                     completionTokens: DialectSupport.int(usage["completion_tokens"]))
        }
        return chunk
    }

    /// `common` on the fast route.
    static func common(_ scanned: ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk {
        var chunk = StreamChunk()
        chunk.finishReason = scanned.nonEmptyString(.finishReason)
        if scanned.isObject(.usage) {
            chunk.usage = TokenUsage(promptTokens: try scanned.int(.promptTokens),
                                     completionTokens: try scanned.int(.completionTokens))
        }
        return chunk
    }
}

extension OpenAIChatDialect {
    public func interpret(_ event: SSEEventBytes, keepingText: Bool) -> DialectEvent {
        DialectSupport.fastInterpret(event) { scanned throws(ChunkScanner.Undecided) in try Self.read(scanned, keepingText: keepingText) }
            ?? interpret(event.materialized, route: .foundation)
    }

    /// `read(scanned, keepingText: true)`.
    static func read(_ scanned: ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk {
        try read(scanned, keepingText: true)
    }

    /// A chat chunk on the fast route; its flags come from `hasText` (a string decodes to "" only
    /// when it is ""), so they are the same whether or not the text is kept.
    static func read(_ scanned: ScannedChunk, keepingText: Bool) throws(ChunkScanner.Undecided) -> StreamChunk {
        var chunk = try OpenAIReading.common(scanned)
        if scanned.isObject(.delta) {
            chunk.isAnswerToken = scanned.hasText(.content)
            chunk.isToken = chunk.isAnswerToken || scanned.hasText(.reasoningContent) || scanned.hasText(.reasoning)
            if keepingText {
                chunk.answer = scanned.string(.content)
                chunk.reasoning = scanned.hasText(.reasoningContent) ? scanned.string(.reasoningContent) : scanned.string(.reasoning)
            }
        }
        return chunk
    }
}

extension OpenAICompletionsDialect {
    public func interpret(_ event: SSEEventBytes, keepingText: Bool) -> DialectEvent {
        DialectSupport.fastInterpret(event) { scanned throws(ChunkScanner.Undecided) in try Self.read(scanned, keepingText: keepingText) }
            ?? interpret(event.materialized, route: .foundation)
    }

    /// `read(scanned, keepingText: true)`.
    static func read(_ scanned: ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk {
        try read(scanned, keepingText: true)
    }

    /// A completions chunk on the fast route; its flags come from `hasText`, so they are the same
    /// whether or not the text is kept.
    static func read(_ scanned: ScannedChunk, keepingText: Bool) throws(ChunkScanner.Undecided) -> StreamChunk {
        var chunk = try OpenAIReading.common(scanned)
        if scanned.fields.hasChoice {
            chunk.isAnswerToken = scanned.hasText(.choiceText)
            chunk.isToken = chunk.isAnswerToken
            if keepingText { chunk.answer = scanned.string(.choiceText) }
        }
        return chunk
    }
}
