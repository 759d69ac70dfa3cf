import NIOCore

/// One dispatched server-sent event.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field of this event; nil when none was given (the spec's default type, "message").
    public var event: String?
    /// The `data:` lines of the event, joined with `\n`.
    public var data: String
    /// The last event ID in effect when the event was dispatched. Per the spec it persists from
    /// one event to the next until another `id:` field changes it; nil until one was seen.
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// One dispatched event as the parser holds it, before any `String` is made of its data: what
/// `SSEParser.feed(_:each:)` hands over. `data` is valid only during that call.
public struct SSEEventBytes {
    /// The `event:` field; nil when none was given.
    public var event: String?
    /// The `data:` lines joined with `\n`, as received (not yet checked as UTF-8).
    public var data: UnsafeRawBufferPointer
    /// The last event ID in effect.
    public var id: String?

    /// The event as `feed(_:)` returns it: invalid UTF-8 in the data becomes U+FFFD.
    public var materialized: SSEEvent {
        SSEEvent(event: event, data: String(decoding: data, as: UTF8.self), id: id)
    }
}

/// Incremental `text/event-stream` parser following the WHATWG rules
/// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
///
/// - Lines end with CRLF, LF or CR. A CR at the end of one read followed by an LF at the start of
///   the next is one line end.
/// - `field:value`, where one space after the colon is dropped; a line without a colon is a field
///   with an empty value; a line that starts with a colon is a comment.
/// - `data` appends the value and `\n` to the data buffer; `event` sets the type; `id` sets the last
///   event ID (unless it contains U+0000); `retry` and unknown fields are ignored.
/// - An empty line dispatches the event, unless no `data` field was seen since the last dispatch.
/// - A UTF-8 byte order mark at the very start of the stream is skipped.
///
/// Bytes are buffered and only whole lines are decoded, so a UTF-8 sequence split across reads
/// decodes correctly; invalid UTF-8 becomes U+FFFD, as the spec's decoder does. Field names are
/// matched on bytes and the data is turned into a `String` once per event, not once per byte
/// (`feed(_:each:)` hands the data over as bytes and makes no `String` at all).
///
/// Limits: a line longer than `maxLineBytes` or an event whose data grows past `maxEventBytes` stops
/// the parser. Its buffers are released, `limitExceeded` says which limit, and later input is
/// ignored, so a server that sends one endless line cannot grow memory.
public struct SSEParser: Sendable {
    /// Which limit stopped the parser.
    public enum LimitExceeded: Sendable, Equatable {
        /// A line (without its line end) longer than this many bytes.
        case line(Int)
        /// An event's data (its `data` values joined with `\n`) longer than this many bytes.
        case event(Int)
    }

    /// The default line limit, 4 MiB. Real chunks are well under 4 KiB; the largest legitimate line is
    /// TGI's final event, which repeats the whole generated text (200k tokens are about 1 MB, more
    /// when non-ASCII text is JSON-escaped).
    public static let defaultMaxLineBytes = 4 << 20
    /// The default event limit, 4 MiB.
    public static let defaultMaxEventBytes = 4 << 20

    public let maxLineBytes: Int
    public let maxEventBytes: Int
    /// Set when a limit was exceeded; the parser then ignores further input.
    public private(set) var limitExceeded: LimitExceeded?
    /// Bytes of the current line that arrived in earlier reads.
    private var partialLine: [UInt8] = []
    /// The previous byte was a CR, so an LF right after it (even in the next read) ends nothing.
    private var lastWasCR = false
    /// Whether the start of the stream (and a possible byte order mark) is still ahead.
    private var atStreamStart = true
    private var dataBuffer: [UInt8] = []
    private var eventType: String?
    private var lastEventID: String?

    public init(maxLineBytes: Int = SSEParser.defaultMaxLineBytes, maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.maxEventBytes = max(1, maxEventBytes)
    }

    /// True when bytes were fed that have not yet formed a dispatched event: an unterminated line or
    /// an event without its closing empty line. `finish()` discards them.
    public var hasPendingInput: Bool { !partialLine.isEmpty || !dataBuffer.isEmpty }

    /// Feeds the next bytes of the stream; returns the events they complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            self.scan(UnsafeRawBufferPointer(buffer)) { events.append($0.materialized) }
        }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { self.scan($0) { events.append($0.materialized) } }
        }
        return events
    }

    /// Feeds the readable bytes of `buffer` (it is not consumed).
    public mutating func feed(_ buffer: ByteBuffer) -> [SSEEvent] {
        var events: [SSEEvent] = []
        buffer.withUnsafeReadableBytes { self.scan($0) { events.append($0.materialized) } }
        return events
    }

    /// Feeds the readable bytes of `buffer` and hands each event it completes to `body`, in order, as
    /// bytes: no `String` and no array is made for it (the client's hot path). The same events as
    /// `feed(_:)`, whose `materialized` form they have.
    public mutating func feed(_ buffer: ByteBuffer, each body: (SSEEventBytes) -> Void) {
        buffer.withUnsafeReadableBytes { self.scan($0, body) }
    }

    /// The end of the stream. Per the spec, an unterminated line and an event that was not closed by
    /// an empty line are discarded, so this returns no events; it resets the parser for reuse.
    /// Check `hasPendingInput` first to learn whether anything was discarded.
    public mutating func finish() -> [SSEEvent] {
        partialLine.removeAll()
        dataBuffer.removeAll()
        limitExceeded = nil
        eventType = nil
        lastEventID = nil
        lastWasCR = false
        atStreamStart = true
        return []
    }

    // MARK: - Scanning

    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20

    /// Stops the parser: releases the buffers (their storage too) and ignores the rest of the input.
    private mutating func stop(_ limit: LimitExceeded) {
        limitExceeded = limit
        partialLine = []
        dataBuffer = []
        eventType = nil
    }

    private mutating func scan(_ bytes: UnsafeRawBufferPointer, _ emit: (SSEEventBytes) -> Void) {
        guard limitExceeded == nil else { return }
        let count = bytes.count
        var index = 0
        if lastWasCR, count > 0 {
            lastWasCR = false
            if bytes[0] == Self.lf { index = 1 }
        }
        var lineStart = index
        while index < count {
            // Eight bytes at a time while none ends a line (most of a read is an event's data).
            while index <= count &- 8, !Self.hasLineEnd(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
            guard index < count else { break }
            let byte = bytes[index]
            if byte == Self.lf || byte == Self.cr {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index])
                if partialLine.count + slice.count > maxLineBytes {
                    stop(.line(maxLineBytes))
                    return
                }
                if partialLine.isEmpty {
                    processLine(slice, emit)
                } else {
                    partialLine.append(contentsOf: slice)
                    // Take the buffer out (no copy), process it, then put it back empty to reuse its storage.
                    var line: [UInt8] = []
                    swap(&line, &partialLine)
                    line.withUnsafeBytes { processLine($0, emit) }
                    line.removeAll(keepingCapacity: true)
                    partialLine = line
                }
                if limitExceeded != nil {
                    partialLine = []  // the event limit stopped `processLine`: drop the reused storage too
                    return
                }
                index += 1
                if byte == Self.cr {
                    if index < count {
                        if bytes[index] == Self.lf { index += 1 }
                    } else {
                        lastWasCR = true
                    }
                }
                lineStart = index
            } else {
                index += 1
            }
        }
        if lineStart < count {
            // The line goes on in the next read: keep it only while it is within the limit.
            guard partialLine.count + (count - lineStart) <= maxLineBytes else {
                stop(.line(maxLineBytes))
                return
            }
            partialLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<count]))
        }
    }

    /// Whether one of the eight bytes is a line feed or a carriage return (a byte is zero in
    /// `word ^ lf…` or `word ^ cr…`: the classic test for a zero byte, exact as a yes or no).
    @inline(__always)
    static func hasLineEnd(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let lfs = word ^ (ones &* UInt64(lf))
        let crs = word ^ (ones &* UInt64(cr))
        return (((lfs &- ones) & ~lfs) | ((crs &- ones) & ~crs)) & highs != 0
    }

    private mutating func processLine(_ rawLine: UnsafeRawBufferPointer, _ emit: (SSEEventBytes) -> Void) {
        var line = rawLine
        if atStreamStart {
            atStreamStart = false
            if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
                line = UnsafeRawBufferPointer(rebasing: line[3...])
            }
        }
        if line.isEmpty {
            dispatch(emit)
            return
        }
        if line[0] == Self.colon { return }  // comment

        var nameEnd = line.count
        var valueStart = line.count
        if let colonIndex = line.firstIndex(of: Self.colon) {
            nameEnd = colonIndex
            valueStart = colonIndex + 1
            if valueStart < line.count, line[valueStart] == Self.space { valueStart += 1 }
        }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<nameEnd])
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart...])

        if Self.equals(name, "data") {
            // The event's data is the buffer (earlier values, each with its "\n") and this value.
            guard value.count <= maxEventBytes - dataBuffer.count else {
                stop(.event(maxEventBytes))
                return
            }
            dataBuffer.append(contentsOf: value)
            dataBuffer.append(Self.lf)
        } else if Self.equals(name, "event") {
            eventType = String(decoding: value, as: UTF8.self)
        } else if Self.equals(name, "id") {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        }
        // `retry` and unknown fields are ignored.
    }

    private mutating func dispatch(_ emit: (SSEEventBytes) -> Void) {
        guard !dataBuffer.isEmpty else {
            eventType = nil
            return
        }
        let type = (eventType?.isEmpty ?? true) ? nil : eventType
        // The buffer is taken out while `emit` reads it (no copy), then put back empty to reuse its storage.
        var data: [UInt8] = []
        swap(&data, &dataBuffer)
        data.withUnsafeBytes { emit(SSEEventBytes(event: type, data: UnsafeRawBufferPointer(rebasing: $0.dropLast()), id: lastEventID)) }
        data.removeAll(keepingCapacity: true)
        dataBuffer = data
        eventType = nil
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        JSONText.equals(bytes, name)
    }
}
