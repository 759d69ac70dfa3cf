import Foundation
import StampedeCore

/// Token counts from a server's `usage` object.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int?
    public var completionTokens: Int?

    public init(promptTokens: Int? = nil, completionTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// What one parsed stream event carries, whatever the dialect.
public struct StreamChunk: Sendable, Equatable {
    /// Answer (non-reasoning) text; empty when the chunk carries none.
    public var answer: String
    /// Reasoning text (`reasoning_content` or `reasoning`); empty when none.
    public var reasoning: String
    /// The chunk counts as an output token chunk (reasoning included): it feeds TTFT,
    /// `tokenChunkNs` and the chunk count.
    public var isToken: Bool
    /// The chunk carries answer output: it feeds TTFT (answer).
    public var isAnswerToken: Bool
    /// The server's `usage` object, when the chunk has one.
    public var usage: TokenUsage?
    /// TGI's `details.generated_tokens`.
    public var generatedTokens: Int?
    /// `finish_reason` (OpenAI) or `details.finish_reason` (TGI), when set.
    public var finishReason: String?
    /// The chunk is the last of the stream (TGI's final event): the request is complete once it is taken.
    public var isFinal: Bool

    public init(answer: String = "", reasoning: String = "", isToken: Bool = false, isAnswerToken: Bool = false,
                usage: TokenUsage? = nil, generatedTokens: Int? = nil, finishReason: String? = nil, isFinal: Bool = false) {
        self.answer = answer
        self.reasoning = reasoning
        self.isToken = isToken
        self.isAnswerToken = isAnswerToken
        self.usage = usage
        self.generatedTokens = generatedTokens
        self.finishReason = finishReason
        self.isFinal = isFinal
    }
}

/// The meaning of one server-sent event in a dialect.
public enum DialectEvent: Sendable, Equatable {
    /// A well-formed chunk (it may or may not carry a token).
    case chunk(StreamChunk)
    /// `data: [DONE]`: the stream is complete.
    case done
    /// An in-band error (`{"error": …}`, `{"object": "error", …}` or an `event: error`), with its message.
    case error(String)
    /// Data that is not a JSON object, with a short description.
    case malformed(String)
    /// An event with empty data (a keep-alive): nothing to do.
    case ignored
}

extension DialectEvent {
    /// The event with a chunk's text left out and its flags kept: what `interpret(_:keepingText:)`
    /// without the text must agree on with the Foundation route (property tests, fuzzing).
    var textless: DialectEvent {
        guard case .chunk(var chunk) = self else { return self }
        chunk.answer = ""
        chunk.reasoning = ""
        return .chunk(chunk)
    }
}

/// One HTTP API: how to build a request body and how to read the events of its streamed reply.
/// Dialects do no I/O, so they can be tested on canned events.
public protocol Dialect: Sendable {
    var api: APIDialect { get }
    /// The JSON body of one streamed request, with `extraBody` (an object) merged in.
    func requestBody(model: String, prompt: String, maxTokens: Int, extraBody: JSONValue?) -> JSONValue
    /// What one event means (the fast route, `ParseRoute.fast`).
    func interpret(_ event: SSEEvent) -> DialectEvent
    /// What one event means, read by `route`; both routes give the same answer.
    func interpret(_ event: SSEEvent, route: ParseRoute) -> DialectEvent
    /// What one event means, read from its bytes (`SSEParser.feed(_:each:)`): the same answer as
    /// `interpret(event.materialized)`, with no `String` made of the data unless the fast route
    /// leaves the event to Foundation. Without `keepingText` the fast route leaves a chunk's `answer`
    /// and `reasoning` empty and makes no string of them (its flags still say whether it had them):
    /// only the correctness check reads the text.
    func interpret(_ event: SSEEventBytes, keepingText: Bool) -> DialectEvent
    /// The end marker named in "stream ended before …" messages.
    var endMarker: String { get }
}

extension Dialect {
    public func interpret(_ event: SSEEventBytes, keepingText: Bool) -> DialectEvent {
        interpret(event.materialized)
    }

    /// `interpret(event, keepingText: true)`.
    public func interpret(_ event: SSEEventBytes) -> DialectEvent {
        interpret(event, keepingText: true)
    }
}

extension APIDialect {
    /// The implementation of this API.
    public var dialect: any Dialect {
        switch self {
        case .chat: OpenAIChatDialect()
        case .completions: OpenAICompletionsDialect()
        case .tgi: TGIDialect()
        }
    }
}

/// Helpers shared by the dialects.
///
/// JSON: events are read by `ChunkScanner` (the fast route, `DialectFastPath.swift`), which keeps only
/// the fields a chunk needs; what it cannot decide goes the Foundation route: `JSONSerialization` and
/// `[String: Any]` casts (`prepare`, `parseObject`). On Linux (swift-corelibs-foundation, Swift 6.3)
/// that route measured ~12-15% cheaper per vLLM chat chunk than `JSONDecoder` into small `Decodable`
/// structs (~5.5 µs vs ~6.4 µs), and both cost far more than the SSE framing.
enum DialectSupport {
    /// Encodes a request body with sorted keys (stable bytes, easy to test), as `JSONBodyWriter` does.
    static func encode(_ body: JSONValue) -> [UInt8] {
        Array(JSONBodyWriter.buffer(body).readableBytesView)
    }

    /// `base` with the keys of `extra` (when it is an object) written over it.
    static func merge(_ base: [String: JSONValue], _ extra: JSONValue?) -> JSONValue {
        var merged = base
        if let extra = extra?.objectValue {
            for (key, value) in extra { merged[key] = value }
        }
        return .object(merged)
    }

    /// What `prepare` found: an answer for the event already, or the JSON object to read.
    enum Prepared {
        case answer(DialectEvent)
        case object([String: Any])
    }

    /// The steps every dialect shares before reading its own JSON: `event: error`, `[DONE]`, empty
    /// data, JSON parsing and in-band error payloads.
    static func prepare(_ event: SSEEvent) -> Prepared {
        if event.event == "error" {
            let object = parseObject(event.data)
            let message = object.flatMap(errorMessage(in:)) ?? excerpt(event.data)
            return .answer(.error(message.isEmpty ? "error event" : message))
        }
        let data = event.data
        if let answer = preliminary(data) { return .answer(answer) }
        guard let object = parseObject(data) else {
            return .answer(.malformed("event data is not a JSON object: \(excerpt(data))"))
        }
        if let message = errorMessage(in: object) { return .answer(.error(message)) }
        return .object(object)
    }

    /// `[DONE]` and empty data (keep-alives), which both routes answer before any JSON.
    static func preliminary(_ data: String) -> DialectEvent? {
        if data == "[DONE]" { return .done }
        if data.utf8.count < 24 {
            let trimmed = data.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed == "[DONE]" { return .done }
            if trimmed.isEmpty { return .ignored }
        }
        return nil
    }

    static func parseObject(_ text: String) -> [String: Any]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return nil }
        return object as? [String: Any]
    }

    /// The message of an error payload: `{"error": "…"}` (TGI), `{"error": {"message": "…"}}`
    /// (OpenAI, vLLM) or `{"object": "error", "message": "…"}` (vLLM). Nil when it is no error.
    static func errorMessage(in object: [String: Any]) -> String? {
        if let error = object["error"] {
            if let text = error as? String { return text }
            if let nested = error as? [String: Any] {
                if let message = nested["message"] as? String { return message }
                return compactJSON(nested)
            }
        }
        if object["object"] as? String == "error" {
            return object["message"] as? String ?? compactJSON(object)
        }
        return nil
    }

    static func compactJSON(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "error" }
        return excerpt(String(decoding: data, as: UTF8.self))
    }

    /// At most `limit` characters of `text` on one line, with "…" when cut.
    static func excerpt(_ text: some StringProtocol, limit: Int = 200) -> String {
        var result = ""
        var count = 0
        var lastWasSpace = false
        for character in text {
            if count == limit {
                result.append("…")
                break
            }
            if character.isWhitespace || character.isNewline {
                if lastWasSpace || result.isEmpty { continue }
                result.append(" ")
                lastWasSpace = true
            } else {
                result.append(character)
                lastWasSpace = false
            }
            count += 1
        }
        while result.last == " " { result.removeLast() }
        return result
    }

    static func string(_ value: Any?) -> String {
        (value as? String) ?? ""
    }

    static func int(_ value: Any?) -> Int? {
        guard let value, !(value is NSNull) else { return nil }
        if let number = value as? Int { return number }
        if let number = value as? Double, number.rounded() == number, abs(number) < 9.0e15 { return Int(number) }
        return nil
    }
}
