/// The contents of one JSON string (between its quotes) as a byte range of the scanned text.
struct JSONStringSpan: Sendable, Equatable {
    var start: Int
    var end: Int
    /// It holds escapes, so it must be decoded; otherwise its bytes are its text.
    var hasEscapes: Bool

    /// The string is `""`: every escape decodes to at least one character.
    var isEmpty: Bool { start == end }
}

/// What a field of a chunk held, as far as the dialects need to know.
enum JSONFieldValue: Sendable, Equatable {
    case absent
    case null
    case string(JSONStringSpan)
    /// A number of at most 15 digits with no fraction or exponent.
    case integer(Int)
    /// Any other number.
    case otherNumber
    case bool(Bool)
    case object
    case array
}

/// An object the fast route reads keys from.
enum ChunkContext: Sendable {
    /// The event's top-level object.
    case root
    /// `choices[0]` (OpenAI).
    case choice
    /// `choices[0].delta` (chat).
    case delta
    case usage
    /// `error` when it is an object.
    case error
    /// `token` (TGI).
    case token
    /// `details` (TGI).
    case details

    /// The field `key` names in this object, if the chunk reads it.
    func field(named key: UnsafeRawBufferPointer) -> ChunkField? {
        switch self {
        case .root:
            if JSONText.equals(key, "choices") { return .choices }
            if JSONText.equals(key, "usage") { return .usage }
            if JSONText.equals(key, "error") { return .error }
            if JSONText.equals(key, "object") { return .object }
            if JSONText.equals(key, "message") { return .message }
            if JSONText.equals(key, "token") { return .token }
            if JSONText.equals(key, "generated_text") { return .generatedText }
            if JSONText.equals(key, "details") { return .details }
        case .choice:
            if JSONText.equals(key, "delta") { return .delta }
            if JSONText.equals(key, "text") { return .choiceText }
            if JSONText.equals(key, "finish_reason") { return .finishReason }
        case .delta:
            if JSONText.equals(key, "content") { return .content }
            if JSONText.equals(key, "reasoning_content") { return .reasoningContent }
            if JSONText.equals(key, "reasoning") { return .reasoning }
        case .usage:
            if JSONText.equals(key, "prompt_tokens") { return .promptTokens }
            if JSONText.equals(key, "completion_tokens") { return .completionTokens }
        case .error:
            if JSONText.equals(key, "message") { return .errorMessage }
        case .token:
            if JSONText.equals(key, "text") { return .tokenText }
            if JSONText.equals(key, "special") { return .tokenSpecial }
        case .details:
            if JSONText.equals(key, "generated_tokens") { return .generatedTokens }
            if JSONText.equals(key, "finish_reason") { return .detailsFinishReason }
        }
        return nil
    }
}

/// The values a chunk reads; each belongs to one `ChunkContext`.
enum ChunkField: UInt8, Sendable, CaseIterable {
    case choices, usage, error, object, message, token, generatedText, details
    case delta, choiceText, finishReason
    case content, reasoningContent, reasoning
    case promptTokens, completionTokens
    case errorMessage
    case tokenText, tokenSpecial
    case generatedTokens, detailsFinishReason

    /// The context of this field's value when it is an object.
    var context: ChunkContext? {
        switch self {
        case .usage: .usage
        case .error: .error
        case .token: .token
        case .details: .details
        case .delta: .delta
        default: nil
        }
    }

    /// The context of the first element when this field's value is an array.
    var firstElementContext: ChunkContext? {
        self == .choices ? .choice : nil
    }
}

/// What the scan kept of one event: every `ChunkField` (`.absent` unless it was there) and whether
/// `choices[0]` is an object.
struct ChunkFields: Sendable, Equatable {
    private var values = ChunkFieldStorage()
    /// `choices` is an array whose first element is an object.
    var hasChoice = false

    subscript(_ field: ChunkField) -> JSONFieldValue {
        get { values[field] }
        set { values[field] = newValue }
    }
}

/// 21 values inline (an array would cost an allocation per event).
private struct ChunkFieldStorage: Sendable, Equatable {
    var root: (JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue,
               JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue)
        = (.absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent)
    var nested: (JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue,
                 JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue, JSONFieldValue)
        = (.absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent, .absent)

    static func == (lhs: Self, rhs: Self) -> Bool {
        ChunkField.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }

    subscript(_ field: ChunkField) -> JSONFieldValue {
        get {
            switch field {
            case .choices: root.0
            case .usage: root.1
            case .error: root.2
            case .object: root.3
            case .message: root.4
            case .token: root.5
            case .generatedText: root.6
            case .details: root.7
            case .delta: nested.0
            case .choiceText: nested.1
            case .finishReason: nested.2
            case .content: nested.3
            case .reasoningContent: nested.4
            case .reasoning: nested.5
            case .promptTokens: nested.6
            case .completionTokens: nested.7
            case .errorMessage: nested.8
            case .tokenText: nested.9
            case .tokenSpecial: nested.10
            case .generatedTokens: nested.11
            case .detailsFinishReason: nested.12
            }
        }
        set {
            switch field {
            case .choices: root.0 = newValue
            case .usage: root.1 = newValue
            case .error: root.2 = newValue
            case .object: root.3 = newValue
            case .message: root.4 = newValue
            case .token: root.5 = newValue
            case .generatedText: root.6 = newValue
            case .details: root.7 = newValue
            case .delta: nested.0 = newValue
            case .choiceText: nested.1 = newValue
            case .finishReason: nested.2 = newValue
            case .content: nested.3 = newValue
            case .reasoningContent: nested.4 = newValue
            case .reasoning: nested.5 = newValue
            case .promptTokens: nested.6 = newValue
            case .completionTokens: nested.7 = newValue
            case .errorMessage: nested.8 = newValue
            case .tokenText: nested.9 = newValue
            case .tokenSpecial: nested.10 = newValue
            case .generatedTokens: nested.11 = newValue
            case .detailsFinishReason: nested.12 = newValue
            }
        }
    }
}

/// Byte helpers of the fast route.
enum JSONText {
    static func equals(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        return bytes.elementsEqual(UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    /// The value of four hex digits at `offset`, if there are four.
    static func hex4(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for position in offset..<(offset + 4) {
            let byte = bytes[position]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }

    /// The text of a string the scanner accepted. Without escapes its bytes are the text; with them
    /// it is decoded in place into the new string (never longer than the escaped form).
    static func decode(_ span: JSONStringSpan, in bytes: UnsafeRawBufferPointer) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end])
        guard span.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: raw.count) { output in
            var read = 0
            var written = 0
            func put(_ byte: UInt8) {
                output[written] = byte
                written += 1
            }
            while read < raw.count {
                let byte = raw[read]
                guard byte == Byte.backslash, read + 1 < raw.count else {
                    put(byte)
                    read += 1
                    continue
                }
                let kind = raw[read + 1]
                read += 2
                switch kind {
                case UInt8(ascii: "b"): put(0x08)
                case UInt8(ascii: "f"): put(0x0C)
                case UInt8(ascii: "n"): put(0x0A)
                case UInt8(ascii: "r"): put(0x0D)
                case UInt8(ascii: "t"): put(0x09)
                case UInt8(ascii: "u"):
                    var scalar = hex4(raw, at: read) ?? 0xFFFD
                    read += 4
                    if (0xD800...0xDBFF).contains(scalar), read + 6 <= raw.count, let low = hex4(raw, at: read + 2),
                       (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        read += 6
                    }
                    // The scanner refused lone surrogates; U+FFFD keeps this total all the same.
                    if (0xD800...0xDFFF).contains(scalar) { scalar = 0xFFFD }
                    switch scalar {
                    case ..<0x80:
                        put(UInt8(scalar))
                    case ..<0x800:
                        put(UInt8(0xC0 | scalar >> 6))
                        put(UInt8(0x80 | scalar & 0x3F))
                    case ..<0x10000:
                        put(UInt8(0xE0 | scalar >> 12))
                        put(UInt8(0x80 | scalar >> 6 & 0x3F))
                        put(UInt8(0x80 | scalar & 0x3F))
                    default:
                        put(UInt8(0xF0 | scalar >> 18))
                        put(UInt8(0x80 | scalar >> 12 & 0x3F))
                        put(UInt8(0x80 | scalar >> 6 & 0x3F))
                        put(UInt8(0x80 | scalar & 0x3F))
                    }
                default: put(kind)  // " \ /
                }
            }
            return written
        }
    }
}
