import Foundation
import StampedeCore

/// A generation request, read from any of the three dialects.
struct GenerationRequest: Sendable, Equatable {
    var dialect: APIDialect
    /// The `model` field, when given.
    var model: String?
    /// The prompt text; for chat, the message contents joined with "\n".
    var prompt: String
    /// Answer tokens to generate (`max_tokens`, `max_completion_tokens` or `max_new_tokens`).
    var maxTokens: Int
    /// Whether to stream (always true for TGI's `/generate_stream`).
    var stream: Bool
    /// `stream_options.include_usage` (OpenAI dialects).
    var includeUsage: Bool
    /// `parameters.details` (TGI).
    var details: Bool
}

/// A request the server refuses with 400 and an OpenAI-shaped error.
struct BadRequest: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

enum RequestParser {
    /// The largest `max_tokens` accepted, as a real server's context limit would.
    static let maxOutputTokens = 1 << 20

    /// Reads a request body. `streamOverride` forces `stream` (TGI's two endpoints).
    static func parse(_ body: [UInt8], dialect: APIDialect, defaultMaxTokens: Int,
                      streamOverride: Bool? = nil) throws -> GenerationRequest {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw BadRequest("We could not parse the JSON body of your request: expected a JSON object")
        }
        guard let object = json.objectValue else { throw BadRequest("The request body must be a JSON object") }

        let model = try optionalString(object["model"], name: "model")
        switch dialect {
        case .chat:
            let prompt = try chatPrompt(object["messages"])
            let maxTokens = try positiveInt(object["max_completion_tokens"], name: "max_completion_tokens")
                ?? positiveInt(object["max_tokens"], name: "max_tokens") ?? defaultMaxTokens
            return GenerationRequest(dialect: .chat, model: model, prompt: prompt, maxTokens: maxTokens,
                                     stream: try streamOverride ?? optionalBool(object["stream"], name: "stream") ?? false,
                                     includeUsage: try includeUsage(object["stream_options"]), details: false)
        case .completions:
            let prompt = try completionPrompt(object["prompt"])
            let maxTokens = try positiveInt(object["max_tokens"], name: "max_tokens") ?? defaultMaxTokens
            return GenerationRequest(dialect: .completions, model: model, prompt: prompt, maxTokens: maxTokens,
                                     stream: try streamOverride ?? optionalBool(object["stream"], name: "stream") ?? false,
                                     includeUsage: try includeUsage(object["stream_options"]), details: false)
        case .tgi:
            guard let inputs = object["inputs"] else { throw BadRequest("'inputs' is a required property") }
            guard let prompt = inputs.stringValue else { throw BadRequest("'inputs' must be a string") }
            var maxTokens = defaultMaxTokens
            var details = false
            if let parameters = object["parameters"], !parameters.isNull {
                guard let fields = parameters.objectValue else { throw BadRequest("'parameters' must be an object") }
                maxTokens = try positiveInt(fields["max_new_tokens"], name: "parameters.max_new_tokens") ?? defaultMaxTokens
                details = try optionalBool(fields["details"], name: "parameters.details") ?? false
            }
            return GenerationRequest(dialect: .tgi, model: model, prompt: prompt, maxTokens: maxTokens,
                                     stream: streamOverride ?? true, includeUsage: false, details: details)
        }
    }

    /// All message contents joined with "\n". A content is a string, an array of parts
    /// (`{"type": "text", "text": …}`; other parts add nothing) or null.
    static func chatPrompt(_ value: JSONValue?) throws -> String {
        guard let value else { throw BadRequest("'messages' is a required property") }
        guard case .array(let messages) = value else { throw BadRequest("'messages' must be an array of messages") }
        guard !messages.isEmpty else { throw BadRequest("'messages' must contain at least one message") }
        var contents: [String] = []
        for (index, message) in messages.enumerated() {
            guard let fields = message.objectValue else { throw BadRequest("messages[\(index)] must be an object") }
            if let role = fields["role"], role.stringValue == nil { throw BadRequest("messages[\(index)].role must be a string") }
            switch fields["content"] {
            case nil, .null?:
                contents.append("")
            case .string(let text)?:
                contents.append(text)
            case .array(let parts)?:
                var texts: [String] = []
                for part in parts {
                    guard let partFields = part.objectValue else {
                        throw BadRequest("messages[\(index)].content parts must be objects")
                    }
                    if let text = partFields["text"] {
                        guard let string = text.stringValue else { throw BadRequest("messages[\(index)].content[].text must be a string") }
                        texts.append(string)
                    }
                }
                contents.append(texts.joined(separator: "\n"))
            default:
                throw BadRequest("messages[\(index)].content must be a string or an array of content parts")
            }
        }
        return contents.joined(separator: "\n")
    }

    /// A string, or an array holding exactly one string.
    static func completionPrompt(_ value: JSONValue?) throws -> String {
        switch value {
        case nil: throw BadRequest("'prompt' is a required property")
        case .string(let text)?: return text
        case .array(let items)?:
            guard items.count == 1, let text = items[0].stringValue else {
                throw BadRequest("'prompt' must be a string (or an array holding one string)")
            }
            return text
        default: throw BadRequest("'prompt' must be a string")
        }
    }

    static func includeUsage(_ value: JSONValue?) throws -> Bool {
        guard let value, !value.isNull else { return false }
        guard let fields = value.objectValue else { throw BadRequest("'stream_options' must be an object") }
        return try optionalBool(fields["include_usage"], name: "stream_options.include_usage") ?? false
    }

    static func optionalString(_ value: JSONValue?, name: String) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard let string = value.stringValue else { throw BadRequest("'\(name)' must be a string") }
        return string
    }

    static func optionalBool(_ value: JSONValue?, name: String) throws -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw BadRequest("'\(name)' must be a boolean") }
        return bool
    }

    static func positiveInt(_ value: JSONValue?, name: String) throws -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.intValue else { throw BadRequest("'\(name)' must be an integer") }
        guard number >= 1 else { throw BadRequest("'\(name)' must be at least 1 (got \(number))") }
        guard number <= maxOutputTokens else {
            throw BadRequest("'\(name)' is too large: this server generates at most \(maxOutputTokens) tokens")
        }
        return number
    }
}
