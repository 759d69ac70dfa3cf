import StampedeCore

/// Builds the bytes of each dialect's responses, in the shapes vLLM and TGI send.
///
/// Hand-built strings rather than `JSONEncoder`: a capacity run sends tens of thousands of events per second.
struct WireFormat: Sendable {
    let dialect: APIDialect
    /// `chatcmpl-…` / `cmpl-…`.
    let id: String
    /// Unix seconds at arrival.
    let created: Int
    /// Already JSON-escaped and quoted.
    let quotedModel: String
    /// `data: {"id":…,"object":…,"created":…,"model":…,` — built once, shared by every chunk.
    private let chunkPrefix: String

    init(dialect: APIDialect, requestNumber: UInt64, created: Int, model: String) {
        self.dialect = dialect
        let hex = String(SplitMix64.mix(requestNumber ^ 0x5354_414D_5045_4445), radix: 16)
        self.id = (dialect == .chat ? "chatcmpl-" : "cmpl-") + hex
        self.created = created
        self.quotedModel = JSON.quote(model)
        let object = dialect == .chat ? "chat.completion.chunk" : "text_completion"
        self.chunkPrefix = "data: {\"id\":\"\(id)\",\"object\":\"\(object)\",\"created\":\(created),\"model\":\(quotedModel),"
    }

    // MARK: OpenAI streaming events

    /// Chat's first chunk: `delta: {"role":"assistant","content":""}`.
    var roleChunk: String {
        chunkPrefix + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    }

    /// A chat chunk carrying one reasoning token.
    func reasoningChunk(_ token: Token) -> String {
        chunkPrefix + "\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\(JSON.quote(token.text))},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    }

    /// A chunk carrying one answer token (chat `delta.content` or completions `text`).
    func answerChunk(_ token: Token) -> String {
        if dialect == .chat {
            return chunkPrefix + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\(JSON.quote(token.text))},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        }
        return chunkPrefix + "\"choices\":[{\"index\":0,\"text\":\(JSON.quote(token.text)),\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    }

    /// The chunk with no content and `finish_reason: "length"`.
    var finishChunk: String {
        if dialect == .chat {
            return chunkPrefix + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\n"
        }
        return chunkPrefix + "\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\n"
    }

    /// The `stream_options.include_usage` chunk: `"choices": []` and `usage`.
    func usageChunk(promptTokens: Int, completionTokens: Int) -> String {
        chunkPrefix + "\"choices\":[],\"usage\":\(Self.usage(promptTokens, completionTokens))}\n\n"
    }

    static let done = "data: [DONE]\n\n"

    // MARK: TGI streaming events

    /// One TGI token event; `index` counts from 1, as TGI does. The last event carries the full text
    /// and, when asked for, `details`.
    func tgiTokenEvent(index: Int, token: Token, generatedText: String?, details: Bool, generatedTokens: Int) -> String {
        var event = "data: {\"index\":\(index),\"token\":{\"id\":\(token.id),\"text\":\(JSON.quote(token.text)),\"logprob\":\(token.logprob),\"special\":false},"
        if let generatedText {
            event += "\"generated_text\":\(JSON.quote(generatedText)),\"details\":"
            event += details ? Self.tgiDetails(generatedTokens) : "null"
        } else {
            event += "\"generated_text\":null,\"details\":null"
        }
        return event + "}\n\n"
    }

    static func tgiDetails(_ generatedTokens: Int) -> String {
        "{\"finish_reason\":\"length\",\"generated_tokens\":\(generatedTokens),\"seed\":null}"
    }

    // MARK: Errors

    /// The mid-stream failure event: OpenAI's error object, or TGI's `{"error", "error_type"}`.
    var streamErrorEvent: String {
        if dialect == .tgi {
            return "data: {\"error\":\"simulated engine failure\",\"error_type\":\"generation\"}\n\n"
        }
        return "data: " + Self.errorBody(message: "simulated engine failure", type: "internal_error", code: 500) + "\n\n"
    }

    /// `{"error":{"message":…,"type":…,"code":…}}`.
    static func errorBody(message: String, type: String, code: Int) -> String {
        "{\"error\":{\"message\":\(JSON.quote(message)),\"type\":\(JSON.quote(type)),\"code\":\(code)}}"
    }

    // MARK: Non-streamed replies

    /// The whole reply of a non-streamed request.
    func completeBody(answer: String, reasoning: String?, promptTokens: Int, completionTokens: Int, details: Bool) -> String {
        let usage = Self.usage(promptTokens, completionTokens)
        switch dialect {
        case .chat:
            let reasoningJSON = reasoning.map(JSON.quote) ?? "null"
            return "{\"id\":\"\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":\(quotedModel),"
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(JSON.quote(answer)),"
                + "\"reasoning_content\":\(reasoningJSON)},\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":\(usage)}"
        case .completions:
            return "{\"id\":\"\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(quotedModel),"
                + "\"choices\":[{\"index\":0,\"text\":\(JSON.quote(answer)),\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":\(usage)}"
        case .tgi:
            return "{\"generated_text\":\(JSON.quote(answer)),\"details\":\(details ? Self.tgiDetails(completionTokens) : "null")}"
        }
    }

    static func usage(_ prompt: Int, _ completion: Int) -> String {
        "{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion),\"total_tokens\":\(prompt + completion)}"
    }
}

enum JSON {
    /// `text` as a quoted JSON string.
    static func quote(_ text: String) -> String {
        var needsEscape = false
        for byte in text.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
