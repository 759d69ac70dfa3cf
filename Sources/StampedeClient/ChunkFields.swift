/// The contents of one JSON string (between its quotes) as a byte range of the scanned text.
struct JSONStringSpan: Sendable, Equatable {
    /// 32 bits keep `JSONFieldValue` small (16 bytes): an event is at most `SSEParser.maxEventBytes`,
    /// and `ChunkScanner` refuses a text of 2 GiB or more.
    private var lower: UInt32
    private var upper: UInt32
    /// It holds escapes, so it must be decoded; otherwise its bytes are its text.
    var hasEscapes: Bool

    var start: Int { Int(lower) }
    var end: Int { Int(upper) }

    /// `start...end` must be offsets below 2^32 (`ChunkScanner` checks the text's size).
    init(start: Int, end: Int, hasEscapes: Bool) {
        lower = UInt32(truncatingIfNeeded: start)
        upper = UInt32(truncatingIfNeeded: end)
        self.hasEscapes = hasEscapes
    }

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
/// `choices[0]` is an object. One stored property per field (read in place: an array would cost an
/// allocation per event, and a tuple was copied whole on every read).
struct ChunkFields: Sendable, Equatable {
    /// `choices` is an array whose first element is an object.
    var hasChoice = false
    private var choices = JSONFieldValue.absent
    private var usage = JSONFieldValue.absent
    private var error = JSONFieldValue.absent
    private var object = JSONFieldValue.absent
    private var message = JSONFieldValue.absent
    private var token = JSONFieldValue.absent
    private var generatedText = JSONFieldValue.absent
    private var details = JSONFieldValue.absent
    private var delta = JSONFieldValue.absent
    private var choiceText = JSONFieldValue.absent
    private var finishReason = JSONFieldValue.absent
    private var content = JSONFieldValue.absent
    private var reasoningContent = JSONFieldValue.absent
    private var reasoning = JSONFieldValue.absent
    private var promptTokens = JSONFieldValue.absent
    private var completionTokens = JSONFieldValue.absent
    private var errorMessage = JSONFieldValue.absent
    private var tokenText = JSONFieldValue.absent
    private var tokenSpecial = JSONFieldValue.absent
    private var generatedTokens = JSONFieldValue.absent
    private var detailsFinishReason = JSONFieldValue.absent

    subscript(_ field: ChunkField) -> JSONFieldValue {
        get {
            switch field {
            case .choices: choices
            case .usage: usage
            case .error: error
            case .object: object
            case .message: message
            case .token: token
            case .generatedText: generatedText
            case .details: details
            case .delta: delta
            case .choiceText: choiceText
            case .finishReason: finishReason
            case .content: content
            case .reasoningContent: reasoningContent
            case .reasoning: reasoning
            case .promptTokens: promptTokens
            case .completionTokens: completionTokens
            case .errorMessage: errorMessage
            case .tokenText: tokenText
            case .tokenSpecial: tokenSpecial
            case .generatedTokens: generatedTokens
            case .detailsFinishReason: detailsFinishReason
            }
        }
        set {
            switch field {
            case .choices: choices = newValue
            case .usage: usage = newValue
            case .error: error = newValue
            case .object: object = newValue
            case .message: message = newValue
            case .token: token = newValue
            case .generatedText: generatedText = newValue
            case .details: details = newValue
            case .delta: delta = newValue
            case .choiceText: choiceText = newValue
            case .finishReason: finishReason = newValue
            case .content: content = newValue
            case .reasoningContent: reasoningContent = newValue
            case .reasoning: reasoning = newValue
            case .promptTokens: promptTokens = newValue
            case .completionTokens: completionTokens = newValue
            case .errorMessage: errorMessage = newValue
            case .tokenText: tokenText = newValue
            case .tokenSpecial: tokenSpecial = newValue
            case .generatedTokens: generatedTokens = newValue
            case .detailsFinishReason: detailsFinishReason = newValue
            }
        }
    }
}

/// Byte helpers of the fast route.
enum JSONText {
    /// `bytes` are `word`'s (a plain loop: `elementsEqual` on raw buffers showed up in profiles).
    static func equals(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count == count else { return false }
        let expected = word.utf8Start
        for offset in 0..<count where bytes[offset] != expected[offset] { return false }
        return true
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
