import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 that answers each request with a script of raw
/// writes, pauses and closes. It lets tests shape the wire exactly (chunk boundaries, a response
/// held open after `[DONE]`, a body that is not a stream) and count connections.
final class ScriptedServer: @unchecked Sendable {
    // @unchecked Sendable: every mutable property (`requests`, `connections`, `clientFDs`,
    // `stopped`) is read and written only while `lock` is held; `listenFD`, `port` and `script`
    // are immutable after init.

    enum Step: Sendable {
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

    struct Request: Sendable {
        var head: String
        var body: String

        /// The value of a header, by case-insensitive name.
        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }
    private let listenFD: Int32
    /// The steps for the n-th request (the last script repeats).
    private let script: @Sendable (Int) -> [Step]
    private let lock = NSLock()
    private var requestsSeen: [Request] = []
    private var connectionCount = 0
    private var clientFDs: Set<Int32> = []
    private var stopped = false

    init(script: @escaping @Sendable (Int) -> [Step]) throws {
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.listenFD = fd
        self.port = Self.localPort(fd)
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    convenience init(steps: [Step]) throws {
        try self.init(script: { _ in steps })
    }

    var requests: [Request] { lock.withLock { requestsSeen } }
    var connections: Int { lock.withLock { connectionCount } }

    func stop() {
        let fds: Set<Int32> = lock.withLock {
            stopped = true
            return clientFDs
        }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// A port on 127.0.0.1 with nothing listening: connecting to it is refused.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let port = localPort(fd)
        close(fd)
        return port
    }

    private static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            let accepted: Bool = lock.withLock {
                if stopped { return false }
                connectionCount += 1
                clientFDs.insert(client)
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
            lock.withLock { _ = clientFDs.remove(fd) }
            close(fd)
        }
        var pending: [UInt8] = []
        while let request = readRequest(fd, &pending) {
            let index: Int = lock.withLock {
                requestsSeen.append(request)
                return requestsSeen.count - 1
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

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

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
    static func raw(_ text: String) -> Self { .raw(Array(text.utf8)) }

    /// The head of a chunked 200 event stream.
    static let streamHead = raw("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")

    /// A whole response with a `Content-Length` body.
    static func response(_ status: String, contentType: String, body: String) -> Self {
        raw("HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }
}
