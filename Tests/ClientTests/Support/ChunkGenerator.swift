import StampedeCore

/// Seeded random stream events for the property tests of the fast route (FastRoutePropertyTests):
/// chat, completions and TGI chunks, usage-only and error payloads, written as JSON text with keys in
/// random order, random whitespace, every kind of string escape (`\uXXXX` and surrogate pairs for
/// astral-plane characters included), unknown fields with nested values, and now and then a value of
/// an unexpected type, a duplicate key or an escaped key (which the fast route leaves to Foundation).
struct ChunkGenerator {
    var random: SeededGenerator

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ probability: Double) -> Bool { random.nextUnitDouble() < probability }
    mutating func pick<T>(_ options: [T]) -> T { options[int(0...(options.count - 1))] }

    /// One event's data.
    mutating func event() -> String {
        switch int(0...9) {
        case 0...3: chat()
        case 4...5: completions()
        case 6...7: tgi()
        case 8: usageOnly()
        default: errorPayload()
        }
    }

    // MARK: - Chunks

    mutating func chat() -> String {
        var delta: [(String, String)] = []
        if chance(0.2) { delta.append(("role", string("assistant"))) }
        if chance(0.8) { delta.append(("content", textValue())) }
        if chance(0.3) { delta.append(("reasoning_content", textValue())) }
        if chance(0.2) { delta.append(("reasoning", textValue())) }
        if chance(0.1) { delta.append(("tool_calls", unknownValue(depth: 2))) }
        let choice = object([("index", "0"), ("delta", chance(0.95) ? object(delta) : unknownValue(depth: 1)),
                             ("logprobs", "null"), ("finish_reason", finishReason())])
        return top([("choices", choices(choice)), ("object", string("chat.completion.chunk"))])
    }

    mutating func completions() -> String {
        let choice = object([("index", "0"), ("text", textValue()), ("logprobs", "null"),
                             ("finish_reason", finishReason()), ("stop_reason", "null")])
        return top([("choices", choices(choice)), ("object", string("text_completion"))])
    }

    mutating func tgi() -> String {
        var token: [(String, String)] = [("id", "\(int(0...50_000))"), ("text", textValue()), ("logprob", float())]
        if chance(0.9) { token.append(("special", pick(["true", "false", "false", "false", "null", "1", "0", string("false")]))) }
        let final = chance(0.3)
        var details = "null"
        if final || chance(0.05) {
            var fields: [(String, String)] = [("finish_reason", chance(0.9) ? string(pick(["length", "eos_token", "stop_sequence", ""])) : "null")]
            if chance(0.9) { fields.append(("generated_tokens", count())) }
            fields.append(("seed", "null"))
            details = chance(0.95) ? object(fields) : unknownValue(depth: 1)
        }
        return top([("index", "\(int(0...500))"), ("token", chance(0.95) ? object(token) : unknownValue(depth: 1)),
                    ("generated_text", final && chance(0.8) ? textValue() : "null"), ("details", details)])
    }

    mutating func usageOnly() -> String {
        var usage: [(String, String)] = []
        if chance(0.9) { usage.append(("prompt_tokens", count())) }
        if chance(0.9) { usage.append(("completion_tokens", count())) }
        if chance(0.5) { usage.append(("total_tokens", count())) }
        let value = chance(0.9) ? object(usage) : pick(["null", "[]", string("usage"), "12"])
        return top([("choices", chance(0.8) ? "[]" : choices(object([("index", "0"), ("text", textValue())]))), ("usage", value)])
    }

    mutating func errorPayload() -> String {
        switch int(0...5) {
        case 0: return top([("error", string(text())), ("error_type", string("generation"))])
        case 1: return top([("error", object([("message", textValue()), ("type", string("InternalServerError")), ("code", "500")]))])
        case 2: return top([("object", string("error")), ("message", textValue()), ("code", "400")])
        case 3: return top([("error", pick(["null", "42", "[]", "true", "{}"]))])
        case 4: return top([("object", string(pick(["error", "chat.completion.chunk", "Error"]))), ("choices", "[]")])
        default: return top([("error", object([("type", string("x")), ("code", "1")]))])  // no message: Foundation writes it
        }
    }

    /// The top-level object: the given fields, the common ones, maybe a usage and unknown fields.
    mutating func top(_ fields: [(String, String)]) -> String {
        var all = fields
        all.append(("id", string("chatcmpl-\(int(0...99_999))")))
        all.append(("created", "\(int(1_700_000_000...1_800_000_000))"))
        all.append(("model", string(pick(["m", "meta-llama/Llama-3.1-8B", "qwen\u{2011}3"]))))
        if chance(0.15) { all.append(("usage", object([("prompt_tokens", count()), ("completion_tokens", count())]))) }
        if chance(0.05) { all.append(("error", "null")) }
        return object(all)
    }

    mutating func choices(_ first: String) -> String {
        switch int(0...19) {
        case 0: return "[]"
        case 1: return "[" + unknownValue(depth: 1) + "," + first + "]"
        case 2: return unknownValue(depth: 1)
        case 3: return "[" + first + "," + first + "]"
        default: return "[" + ws() + first + ws() + "]"
        }
    }

    mutating func finishReason() -> String {
        chance(0.8) ? "null" : pick([string("length"), string("stop"), string(""), "7", "false"])
    }

    // MARK: - Values

    /// A value read as text: mostly a string, sometimes null or of another type.
    mutating func textValue() -> String {
        switch int(0...19) {
        case 0: "null"
        case 1: pick(["0", "1.5", "true", "[]", "{}", "[\"a\"]"])
        case 2: string("")
        default: string(text())
        }
    }

    /// A token count: mostly an integer, sometimes something Foundation casts its own way.
    mutating func count() -> String {
        switch int(0...19) {
        case 0: "null"
        case 1: pick(["3.0", "2.5", "1e2", "-0", "true", string("7"), "12345678901234567890", "-1", "[]", "0.0e0", "999999999999999"])
        default: "\(int(0...1_000_000))"
        }
    }

    mutating func float() -> String {
        pick(["-0.5", "0", "-1.25e-3", "3.4E+2", "-12.000001", "1e0", "-0.0", "\(int(-99...99)).\(int(0...9999))"])
    }

    /// Random text: ASCII, quotes and backslashes, control characters, Latin, CJK, combining marks, emoji
    /// and other astral-plane characters.
    mutating func text() -> String {
        let pieces = ["a", "The", " world", "\"", "\\", "/", "\n", "\t", "\r", "\u{8}", "\u{C}", "\u{1}", "\u{1F}", "\u{7F}",
                      "é", "ß", "中文", "\u{301}", "😀", "👩‍💻", "𝄞", "\u{10FFFF}", "\u{FFFD}", "\u{2028}", "\u{FEFF}", "42", " ", "{", "}", ":"]
        var result = ""
        for _ in 0..<int(0...6) { result += pick(pieces) }
        return result
    }

    /// A JSON string for `text`, each character written raw or escaped at random.
    mutating func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += chance(0.5) ? "\\n" : "\\u000a"
            case "\t": out += chance(0.5) ? "\\t" : "\\u0009"
            case "\r": out += "\\r"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case "/": out += chance(0.5) ? "\\/" : "/"
            default:
                if scalar.value < 0x20 || chance(0.2) {
                    out += unicodeEscape(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    mutating func unicodeEscape(_ scalar: Unicode.Scalar) -> String {
        func hex(_ value: UInt32, upper: Bool) -> String {
            let digits = String(value, radix: 16, uppercase: upper)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        let upper = chance(0.5)
        guard scalar.value > 0xFFFF else { return hex(scalar.value, upper: upper) }
        let value = scalar.value - 0x10000
        return hex(0xD800 + (value >> 10), upper: upper) + hex(0xDC00 + (value & 0x3FF), upper: upper)
    }

    /// An object: the members in random order, unknown members mixed in, random whitespace; rarely a
    /// member written twice or a key written with an escape.
    mutating func object(_ members: [(String, String)]) -> String {
        var all = members
        for _ in 0..<int(0...2) { all.append(("x_\(pick(["extra", "logprobs", "meta", "content", "choices"]))", unknownValue(depth: int(0...3)))) }
        if !all.isEmpty, chance(0.03) { all.append(pick(all)) }
        all.shuffle(using: &random)
        let written = all.map { member -> String in
            let key = chance(0.02) ? "\"" + member.0.unicodeScalars.map { unicodeEscape($0) }.joined() + "\"" : "\"" + member.0 + "\""
            return ws() + key + ws() + ":" + ws() + member.1 + ws()
        }
        return "{" + written.joined(separator: ",") + (written.isEmpty ? ws() : "") + "}"
    }

    mutating func unknownValue(depth: Int) -> String {
        let kind = depth > 0 ? int(0...8) : int(0...5)
        switch kind {
        case 0: return "null"
        case 1: return pick(["true", "false"])
        case 2: return "\(int(-1_000_000...1_000_000))"
        case 3: return float()
        case 4, 5: return string(text())
        case 6: return "[" + (0..<int(0...3)).map { _ in ws() + unknownValue(depth: depth - 1) + ws() }.joined(separator: ",") + "]"
        default:
            let keys = ["content", "text", "message", "special", "a", "finish_reason", "usage", "token"]
            return object((0..<int(0...3)).map { _ in (pick(keys), unknownValue(depth: depth - 1)) })
        }
    }

    mutating func ws() -> String {
        chance(0.7) ? "" : pick([" ", "  ", "\n", "\t", "\r\n", " \n\t "])
    }
}
