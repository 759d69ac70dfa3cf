import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 that answers each request with a script of raw
/// writes, pauses and closes. It lets tests shape the wire exactly (chunk boundaries, a response
/// held open after `[DONE]`, a body that is not a stream) and count connections.
public final class ScriptedServer: Sendable {
    public enum Step: Sendable {
        /// Raw bytes, written as they are.
        case raw([UInt8])
        /// One chunk of a chunked body.
        case chunk(String)
        /// The same chunk `times` times (a long or endless line without holding it in memory); stops
        /// when the client goes away.
        case repeatChunk(String, times: Int)
        /// The chunked body's terminator (`0\r\n\r\n`).
        case end
        case sleep(milliseconds: Int)
        /// Close the connection.
        case close
        /// Keep the connection open without writing until the server stops.
        case hold
    }

    public struct Request: Sendable {
        public var head: String
        public var body: String

        /// The value of a header, by case-insensitive name.
        public func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let listenFD: Int32
    /// The steps for the n-th request (the last script repeats).
    private let script: @Sendable (Int) -> [Step]
    private struct State {
        var requests: [Request] = []
        var connections = 0
        var clientFDs: Set<Int32> = []
        var stopped = false
    }
    private let state = Mutex(State())

    public init(script: @escaping @Sendable (Int) -> [Step]) throws {
        self.script = script
        (listenFD, port) = try Loopback.bind(listenBacklog: 64, reuseAddress: true)
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    public convenience init(steps: [Step]) throws {
        try self.init(script: { _ in steps })
    }

    public var requests: [Request] { state.withLock { $0.requests } }
    public var connections: Int { state.withLock { $0.connections } }

    public func stop() {
        let fds: Set<Int32> = state.withLock { state in
            state.stopped = true
            return state.clientFDs
        }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            let accepted: Bool = state.withLock { state in
                if state.stopped { return false }
                state.connections += 1
                state.clientFDs.insert(client)
                return true
            }
            guard accepted else {
                close(client)
                return
            }
            let thread = Thread { [self] in self.serve(client) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            state.withLock { _ = $0.clientFDs.remove(fd) }
            close(fd)
        }
        var pending: [UInt8] = []
        while let request = readRequest(fd, &pending) {
            let index: Int = state.withLock { state in
                state.requests.append(request)
                return state.requests.count - 1
            }
            for step in script(index) {
                switch step {
                case .raw(let bytes):
                    guard write(fd, bytes) else { return }
                case .chunk(let text):
                    let bytes = Array(text.utf8)
                    guard write(fd, Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]) else { return }
                case .repeatChunk(let text, let times):
                    let bytes = Array(text.utf8)
                    let framed = Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
                    for _ in 0..<times {
                        guard write(fd, framed) else { return }
                    }
                case .end:
                    guard write(fd, Array("0\r\n\r\n".utf8)) else { return }
                case .sleep(let milliseconds):
                    usleep(useconds_t(milliseconds * 1000))
                case .close:
                    return
                case .hold:
                    var byte: UInt8 = 0
                    while recv(fd, &byte, 1, 0) > 0 {}
                    return
                }
            }
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool { Loopback.sendAll(fd, bytes) }

    /// Reads one request (head and `Content-Length` body); nil when the connection closed.
    private func readRequest(_ fd: Int32, _ pending: inout [UInt8]) -> Request? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var buffer = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return false }
            pending += buffer[0..<count]
            return true
        }
        var headEnd: Int?
        while headEnd == nil {
            if let range = pending.firstRange(of: separator) { headEnd = range.lowerBound; break }
            guard fill() else { return nil }
        }
        let head = String(decoding: pending[0..<headEnd!], as: UTF8.self)
        var request = Request(head: head, body: "")
        let length = Int(request.header("content-length") ?? "0") ?? 0
        let bodyStart = headEnd! + 4
        while pending.count < bodyStart + length {
            guard fill() else { return nil }
        }
        request.body = String(decoding: pending[bodyStart..<(bodyStart + length)], as: UTF8.self)
        pending.removeFirst(bodyStart + length)
        return request
    }
}

extension ScriptedServer.Step {
    public static func raw(_ text: String) -> Self { .raw(Array(text.utf8)) }

    /// The head of a chunked 200 event stream.
    public static let streamHead = raw("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")

    /// A whole response with a `Content-Length` body.
    public static func response(_ status: String, contentType: String, body: String) -> Self {
        raw("HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }
}
