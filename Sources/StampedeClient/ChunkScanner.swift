/// The fast route of the dialects: one pass over an event's JSON bytes that checks the whole text and
/// keeps only the values a chunk needs (`ChunkField`), as byte ranges and small numbers. It builds no
/// dictionary, no `Any` and no string: the dialect decodes the few strings it wants afterwards.
///
/// It is strict RFC 8259 JSON and it decides only what it can decide exactly as the Foundation route
/// (`JSONSerialization` plus `[String: Any]` casts) would. It gives up (`nil`, and the caller takes the
/// Foundation route) on:
/// - any text that is not valid JSON, or whose top-level value is not an object (Foundation then words
///   the `malformed` message);
/// - nesting deeper than `maxDepth` (Foundation has its own limit);
/// - a number with more than 20 digits or an exponent of more than 2 digits (Foundation may read
///   those as `Decimal` or refuse them);
/// - a `\u0000` escape or an unpaired surrogate escape (`\uD800` alone): Foundation refuses some;
/// - a raw (unescaped) U+FEFF in a string: swift-corelibs-foundation drops it, so the text would differ;
/// - a key the chunk reads that appears twice in its object (which one wins is Foundation's choice),
///   or any key with an escape in an object the chunk reads from (it could spell a key the chunk reads);
/// - invalid UTF-8 (the bytes may come straight from the SSE parser: the Foundation route then reads
///   the event's `String`, where the SSE decoder turned those bytes into U+FFFD).
///
/// The dialects give up too where a value has a type whose cast Foundation decides (a boolean or a
/// fraction where a token count is read, a number where `special` is read) and where an error object
/// has no `message` (Foundation writes the object back out as the message).
///
/// Bounds: the text is at most one SSE event (`SSEParser.maxEventBytes`); the scan is one pass with
/// recursion at most `maxDepth` deep; numbers are summed over at most 15 digits, so nothing can trap.
struct ChunkScanner {
    /// Deeper nesting goes to the Foundation route.
    static let maxDepth = 64

    /// The scan cannot decide; the Foundation route will.
    struct Undecided: Error {}

    /// The fields of `bytes` (a JSON text), or nil when the fast route cannot decide.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> ChunkFields? {
        scanned(bytes)?.fields
    }

    /// The fields of `bytes` (a JSON text), or nil when the fast route cannot decide.
    static func scanned(_ bytes: UnsafeRawBufferPointer) -> ChunkScanner? {
        var scanner = ChunkScanner(bytes)
        return scanner.scan() ? scanner : nil
    }

    /// Scans the whole text; false when the fast route cannot decide. Then `fields` and `bytes` are
    /// what the dialects read (`ScannedChunk`).
    mutating func scan() -> Bool {
        do {
            try document()
            return true
        } catch {
            return false
        }
    }

    /// The scanned text.
    let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// What the scan kept.
    private(set) var fields = ChunkFields()
    /// One bit per `ChunkField` already seen: a second one is a duplicate key.
    private var seen: UInt32 = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: - Grammar

    /// Texts of 2 GiB or more are left to Foundation (`JSONStringSpan` holds 32-bit offsets).
    static let maxBytes = Int(Int32.max)

    private mutating func document() throws(Undecided) {
        guard bytes.count <= Self.maxBytes else { throw Undecided() }
        skipWhitespace()
        guard peek() == Byte.openBrace else { throw Undecided() }
        try object(.root, depth: 1)
        skipWhitespace()
        guard index == bytes.count else { throw Undecided() }
    }

    /// One value; `context` is the one its object would have, `firstElement` the one of an array's first
    /// element (both nil: the value is only checked).
    private mutating func value(_ context: ChunkContext?, firstElement: ChunkContext?, depth: Int) throws(Undecided) -> JSONFieldValue {
        switch peek() {
        case Byte.quote:
            return .string(try string())
        case Byte.openBrace:
            try object(context, depth: depth + 1)
            return .object
        case Byte.openBracket:
            try array(firstElement, depth: depth + 1)
            return .array
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw Undecided()
        }
    }

    private mutating func object(_ context: ChunkContext?, depth: Int) throws(Undecided) {
        guard depth <= Self.maxDepth else { throw Undecided() }
        index += 1  // {
        skipWhitespace()
        if peek() == Byte.closeBrace {
            index += 1
            return
        }
        while true {
            guard peek() == Byte.quote else { throw Undecided() }
            let key = try string()
            skipWhitespace()
            guard peek() == Byte.colon else { throw Undecided() }
            index += 1
            skipWhitespace()
            var field: ChunkField?
            if let context {
                if key.hasEscapes { throw Undecided() }
                field = context.field(named: UnsafeRawBufferPointer(rebasing: bytes[key.start..<key.end]))
            }
            if let field {
                let bit = UInt32(1) << field.rawValue
                guard seen & bit == 0 else { throw Undecided() }
                seen |= bit
                fields[field] = try value(field.context, firstElement: field.firstElementContext, depth: depth)
            } else {
                _ = try value(nil, firstElement: nil, depth: depth)
            }
            skipWhitespace()
            switch peek() {
            case Byte.comma:
                index += 1
                skipWhitespace()
            case Byte.closeBrace:
                index += 1
                return
            default:
                throw Undecided()
            }
        }
    }

    private mutating func array(_ firstElement: ChunkContext?, depth: Int) throws(Undecided) {
        guard depth <= Self.maxDepth else { throw Undecided() }
        index += 1  // [
        skipWhitespace()
        if peek() == Byte.closeBracket {
            index += 1
            return
        }
        var context = firstElement
        while true {
            if context == .choice, peek() == Byte.openBrace { fields.hasChoice = true }
            _ = try value(context, firstElement: nil, depth: depth)
            context = nil
            skipWhitespace()
            switch peek() {
            case Byte.comma:
                index += 1
                skipWhitespace()
            case Byte.closeBracket:
                index += 1
                return
            default:
                throw Undecided()
            }
        }
    }

    /// A string at `index` (its opening quote); returns the range between the quotes.
    private mutating func string() throws(Undecided) -> JSONStringSpan {
        index += 1
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            // Eight bytes at a time (most of a chunk is string content: ids, names, text), straight to
            // the first byte that is not plain.
            while index <= bytes.count &- 8 {
                let special = Self.special(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
                guard special == 0 else {
                    index += special.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == Byte.quote {
                let span = JSONStringSpan(start: start, end: index, hasEscapes: hasEscapes)
                index += 1
                return span
            }
            if byte == Byte.backslash {
                hasEscapes = true
                try escape()
            } else if byte < 0x20 {
                throw Undecided()  // a raw control character: not JSON
            } else if byte < 0x80 {
                index += 1
            } else {
                try multibyte()
            }
        }
        throw Undecided()
    }

    /// A UTF-8 sequence of 2 to 4 bytes at `index`, checked as `String(validating:)` would (no overlong
    /// forms, no surrogates, nothing past U+10FFFF): the bytes need not come from a `String`.
    private mutating func multibyte() throws(Undecided) {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw Undecided()
        }
        guard index + length <= bytes.count else { throw Undecided() }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { throw Undecided() }
        if length > 2 {
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { throw Undecided() }
        }
        // A raw U+FEFF: swift-corelibs-foundation drops it from the string (it keeps an escaped one).
        if lead == 0xEF, second == 0xBB, bytes[index + 2] == 0xBF { throw Undecided() }
        index += length
    }

    /// The high bit of each byte of `word` (byte 0 in the lowest bits) that ends or escapes a string,
    /// is a control character or is non-ASCII; zero when all eight are plain. Each test is the classic
    /// "has a zero byte" trick: a plain word is never flagged, and the lowest flag is always a true
    /// one (a borrow can only mark bytes above a byte that really matched), so
    /// `trailingZeroBitCount / 8` is the offset of the first byte that is not plain.
    @inline(__always)
    static func special(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let special = ((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes) | (word &- ones &* 0x20) | word
        return special & highs
    }

    /// An escape at `index` (its backslash).
    private mutating func escape() throws(Undecided) {
        guard index + 1 < bytes.count else { throw Undecided() }
        switch bytes[index + 1] {
        case Byte.quote, Byte.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            guard let unit = JSONText.hex4(bytes, at: index + 2), unit != 0 else { throw Undecided() }
            index += 6
            if (0xD800...0xDBFF).contains(unit) {
                guard index + 1 < bytes.count, bytes[index] == Byte.backslash, bytes[index + 1] == UInt8(ascii: "u"),
                      let low = JSONText.hex4(bytes, at: index + 2), (0xDC00...0xDFFF).contains(low) else { throw Undecided() }
                index += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw Undecided()
            }
        default:
            throw Undecided()
        }
    }

    /// A number at `index`: `.integer` for at most 15 digits with no fraction or exponent, else `.otherNumber`.
    private mutating func number() throws(Undecided) -> JSONFieldValue {
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard let first = digit() else { throw Undecided() }
        var digits = 1
        var magnitude = first
        index += 1
        if first != 0 {
            while let next = digit() {
                if digits < 15 { magnitude = magnitude * 10 + next }
                digits += 1
                index += 1
            }
        }
        var integral = true
        if peek() == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard digit() != nil else { throw Undecided() }
            while digit() != nil {
                digits += 1
                index += 1
            }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            var exponentDigits = 0
            while digit() != nil {
                exponentDigits += 1
                index += 1
            }
            guard (1...2).contains(exponentDigits) else { throw Undecided() }
        }
        guard digits <= 20 else { throw Undecided() }
        if integral, digits <= 15 { return .integer(negative ? -magnitude : magnitude) }
        return .otherNumber
    }

    private mutating func literal(_ word: StaticString) throws(Undecided) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw Undecided() }
        guard JSONText.equals(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)]), word) else { throw Undecided() }
        index += count
    }

    // MARK: - Bytes

    private func peek() -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    /// The value of the digit at `index`, if it is one.
    private func digit() -> Int? {
        guard index < bytes.count else { return nil }
        let byte = bytes[index]
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        return Int(byte &- UInt8(ascii: "0"))
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}

enum Byte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
}
