import Foundation
import StampedeMock

/// `GET /stats` of a `stampede mock` (subprocess) over a raw HTTP/1.1 connection.
enum MockStatsProbe {
    static func fetch(port: Int, timeout: Duration = .seconds(5)) async throws -> MockStats {
        let body = try await offload {
            let connection = try RawTCPConnection(port: port)
            defer { connection.close() }
            try connection.send("GET /stats HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
            return try HTTPResponseBody.parse(connection.readToEnd(timeout: timeout))
        }
        return try JSONDecoder().decode(MockStats.self, from: Data(body))
    }
}

/// The body of a raw HTTP/1.1 response (status 200 required), de-chunked when needed.
enum HTTPResponseBody {
    static func parse(_ bytes: [UInt8]) throws -> [UInt8] {
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = firstRange(of: separator, in: bytes[...]) else { throw SocketError(message: "no HTTP header in the response") }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200") else { throw SocketError(message: "unexpected response: \(head.prefix(80))") }
        var body = Array(bytes[(headEnd + separator.count)...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = try dechunk(body) }
        return body
    }

    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var rest = bytes[...]
        let crlf = Array("\r\n".utf8)
        while true {
            guard let lineEnd = firstRange(of: crlf, in: rest) else { throw SocketError(message: "bad chunked body") }
            let sizeText = String(decoding: rest[rest.startIndex..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw SocketError(message: "bad chunk size") }
            let start = lineEnd + 2
            if size == 0 { return out }
            guard rest.endIndex >= start + size else { throw SocketError(message: "truncated chunk") }
            out += rest[start..<(start + size)]
            rest = rest[(start + size + 2)...]
        }
    }

    private static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
