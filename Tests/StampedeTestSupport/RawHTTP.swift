import Foundation
import StampedeCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One server-sent event, with the time its last byte arrived.
public struct TimedEvent: Sendable {
    public var data: String
    public var at: ContinuousClock.Instant

    /// The event's JSON, or nil for `[DONE]` and non-JSON data.
    public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8)) }
}

/// What a raw HTTP/1.1 exchange gave.
public struct RawResponse: Sendable {
    public var status = 0
    public var headers: [String: String] = [:]
    /// The body, de-chunked.
    public var body: [UInt8] = []
    public var isChunked = false
    /// True when the body ended properly: the last chunk of a chunked body, or Content-Length bytes.
    public var complete = false
    public var events: [TimedEvent] = []
    public var sentAt: ContinuousClock.Instant
    public var headersAt: ContinuousClock.Instant?

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public var bodyJSON: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

public struct RawHTTPError: Error, CustomStringConvertible {
    public let description: String
}

/// A tiny blocking HTTP/1.1 client on its own thread: exact arrival times for every chunk, and it shows
/// whether a chunked body really ended (the abort fault must leave it unterminated).
public enum RawHTTP {
    /// POSTs JSON; with `hangUpAfterEvents`, closes the connection once that many events have arrived.
    public static func post(_ port: Int, _ path: String, json body: String, timeout: Double = 30,
                     hangUpAfterEvents: Int? = nil) async throws -> RawResponse {
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return try await exchange(port, Array((head + body).utf8), timeout: timeout, hangUpAfterEvents: hangUpAfterEvents)
    }

    public static func get(_ port: Int, _ path: String, timeout: Double = 30) async throws -> RawResponse {
        let head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n"
        return try await exchange(port, Array(head.utf8), timeout: timeout)
    }

    /// Sends `request` as is and reads the response until it ends or the server closes.
    public static func exchange(_ port: Int, _ request: [UInt8], timeout: Double, hangUpAfterEvents: Int? = nil) async throws -> RawResponse {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    try blockingExchange(port, request, timeout: timeout, hangUpAfterEvents: hangUpAfterEvents)
                })
            }
            thread.start()
        }
    }

    /// True when something accepts TCP connections on the port.
    public static func canConnect(_ port: Int) -> Bool {
        guard let fd = try? connectSocket(port, timeout: 2) else { return false }
        close(fd)
        return true
    }

    private static func connectSocket(_ port: Int, timeout: Double) throws -> Int32 {
        do {
            return try Loopback.connect(port: port, receiveTimeout: .seconds(timeout))
        } catch {
            throw RawHTTPError(description: "connect to port \(port) failed: \(error)")
        }
    }

    private static func blockingExchange(_ port: Int, _ request: [UInt8], timeout: Double, hangUpAfterEvents: Int?) throws -> RawResponse {
        let clock = ContinuousClock()
        let fd = try connectSocket(port, timeout: timeout)
        defer { close(fd) }
        var response = RawResponse(sentAt: clock.now)
        guard Loopback.sendAll(fd, request) else { throw RawHTTPError(description: "send failed (errno \(errno))") }
        var parser = ResponseParser()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !parser.finished {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { break } // closed by the server
            guard n > 0 else { throw RawHTTPError(description: "recv failed or timed out (errno \(errno))") }
            try parser.feed(buffer[0..<n], at: clock.now, into: &response)
            if let hangUpAfterEvents, response.events.count >= hangUpAfterEvents { break }
        }
        if parser.untilClose { response.complete = true }
        return response
    }
}

/// Incremental HTTP/1.1 response parser: head, then a chunked, sized or until-close body, split into SSE events.
private struct ResponseParser {
    private var raw: [UInt8] = []
    private var headDone = false
    private var remainingLength: Int?
    private var eventStart = 0
    private(set) var finished = false
    private(set) var untilClose = false

    mutating func feed(_ bytes: ArraySlice<UInt8>, at time: ContinuousClock.Instant, into response: inout RawResponse) throws {
        raw.append(contentsOf: bytes)
        if !headDone {
            guard let end = find([13, 10, 13, 10], in: raw, from: 0) else { return }
            let lines = String(decoding: raw[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
                throw RawHTTPError(description: "bad status line \(lines[0])")
            }
            response.status = status
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].lowercased()
                response.headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            response.headersAt = time
            response.isChunked = response.header("transfer-encoding")?.lowercased() == "chunked"
            if !response.isChunked {
                if let length = response.header("content-length").flatMap(Int.init) {
                    remainingLength = length
                } else {
                    untilClose = true
                }
            }
            raw.removeFirst(end + 4)
            headDone = true
        }
        if response.isChunked {
            while true {
                guard let lineEnd = find([13, 10], in: raw, from: 0) else { break }
                let sizeText = String(decoding: raw[0..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw RawHTTPError(description: "bad chunk size line")
                }
                if size == 0 {
                    response.complete = true
                    finished = true
                    break
                }
                guard raw.count >= lineEnd + 2 + size + 2 else { break }
                response.body.append(contentsOf: raw[(lineEnd + 2)..<(lineEnd + 2 + size)])
                raw.removeFirst(lineEnd + 2 + size + 2)
            }
        } else {
            response.body.append(contentsOf: raw)
            raw.removeAll()
            if let length = remainingLength, response.body.count >= length {
                response.complete = true
                finished = true
            }
        }
        // Split complete SSE events ("…\n\n") out of the body so far.
        while let end = find([10, 10], in: response.body, from: eventStart) {
            let text = String(decoding: response.body[eventStart..<end], as: UTF8.self)
            eventStart = end + 2
            for line in text.split(separator: "\n") where line.hasPrefix("data:") {
                response.events.append(TimedEvent(data: line.dropFirst(5).trimmingCharacters(in: .whitespaces), at: time))
            }
        }
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], Array(haystack[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
