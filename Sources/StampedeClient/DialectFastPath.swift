/// How a dialect reads an event's JSON.
public enum ParseRoute: Sendable, CaseIterable {
    /// `ChunkScanner` over the event's bytes; what it cannot decide goes the Foundation route.
    case fast
    /// `JSONSerialization` and `[String: Any]` casts for every event (the route before the fast one;
    /// kept as the fallback, for the property tests and for benchmark comparisons).
    case foundation
}

/// One scanned event: its bytes (valid only inside `fastInterpret`'s closure) and the fields the scan
/// kept. It is the scanner itself, so that its fields are not copied again.
typealias ScannedChunk = ChunkScanner

/// The casts here mirror the Foundation route's (`DialectSupport.string`, `int`, `as? String`,
/// `as? Bool`) value for value; where a cast's answer is Foundation's to give (a boolean read as a
/// count, say), they throw `Undecided`.
extension ChunkScanner {
    subscript(_ field: ChunkField) -> JSONFieldValue { fields[field] }

    /// `DialectSupport.string`: the text of a string, "" for anything else.
    func string(_ field: ChunkField) -> String {
        guard case .string(let span) = fields[field] else { return "" }
        return JSONText.decode(span, in: bytes)
    }

    /// `as? String` that is not empty.
    func nonEmptyString(_ field: ChunkField) -> String? {
        guard case .string(let span) = fields[field], !span.isEmpty else { return nil }
        return JSONText.decode(span, in: bytes)
    }

    /// The value is a string that is not empty (it is not decoded).
    func hasText(_ field: ChunkField) -> Bool {
        guard case .string(let span) = fields[field] else { return false }
        return !span.isEmpty
    }

    /// `DialectSupport.int`: integers; nil for null, strings, arrays and objects.
    func int(_ field: ChunkField) throws(ChunkScanner.Undecided) -> Int? {
        switch fields[field] {
        case .integer(let value): return value
        case .otherNumber, .bool: throw ChunkScanner.Undecided()
        case .absent, .null, .string, .object, .array: return nil
        }
    }

    /// `as? Bool ?? false`.
    func bool(_ field: ChunkField) throws(ChunkScanner.Undecided) -> Bool {
        switch fields[field] {
        case .bool(let value): return value
        case .integer, .otherNumber: throw ChunkScanner.Undecided()
        case .absent, .null, .string, .object, .array: return false
        }
    }

    func isObject(_ field: ChunkField) -> Bool {
        if case .object = fields[field] { return true }
        return false
    }

    /// `DialectSupport.errorMessage`: the message of an error payload, nil when it is none.
    func errorMessage() throws(ChunkScanner.Undecided) -> String? {
        switch fields[.error] {
        case .string(let span):
            return JSONText.decode(span, in: bytes)
        case .object:
            guard case .string(let span) = fields[.errorMessage] else { throw ChunkScanner.Undecided() }
            return JSONText.decode(span, in: bytes)
        default:
            break  // null, numbers, booleans and arrays do not make an error
        }
        guard case .string(let object) = fields[.object] else { return nil }
        let isError = object.hasEscapes
            ? JSONText.decode(object, in: bytes) == "error"
            : JSONText.equals(UnsafeRawBufferPointer(rebasing: bytes[object.start..<object.end]), "error")
        guard isError else { return nil }
        guard case .string(let message) = fields[.message] else { throw ChunkScanner.Undecided() }
        return JSONText.decode(message, in: bytes)
    }
}

extension DialectSupport {
    /// The fast route of `prepare` and a dialect's reading: the event's meaning, or nil when the fast
    /// route cannot decide it (then the caller takes the Foundation route for the whole event).
    static func fastInterpret(_ event: SSEEvent,
                              _ read: (ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk) -> DialectEvent? {
        if event.event == "error" { return nil }  // rare: the Foundation route words it
        if let answer = preliminary(event.data) { return answer }
        let decided: DialectEvent?? = event.data.utf8.withContiguousStorageIfAvailable { buffer in
            fastInterpret(json: UnsafeRawBufferPointer(buffer), read)
        }
        return decided ?? nil
    }

    /// The fast route on an event's bytes; nil when it cannot decide.
    static func fastInterpret(_ event: SSEEventBytes,
                              _ read: (ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk) -> DialectEvent? {
        if event.event == "error" { return nil }
        // `[DONE]`, keep-alives and other short data: `preliminary` reads them as a (small) `String`.
        if event.data.count < 24 { return fastInterpret(event.materialized, read) }
        return fastInterpret(json: event.data, read)
    }

    /// The scan of a JSON text and the dialect's reading of it; nil when either cannot decide.
    private static func fastInterpret(json bytes: UnsafeRawBufferPointer,
                                      _ read: (ScannedChunk) throws(ChunkScanner.Undecided) -> StreamChunk) -> DialectEvent? {
        var scanned = ChunkScanner(bytes)
        guard scanned.scan() else { return nil }
        do {
            if let message = try scanned.errorMessage() { return .error(message) }
            return .chunk(try read(scanned))
        } catch {
            return nil
        }
    }
}
