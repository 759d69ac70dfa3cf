import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
    init(message: String) { description = message }
}

/// A blocking IPv4 TCP connection to 127.0.0.1, for speaking the wire protocol (or HTTP) by hand.
/// Every read is bounded by a timeout (poll). Call its methods through `offload` from async code.
final class RawTCPConnection: Sendable {
    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let closed = Atomic<Bool>(false)

    /// Wraps an accepted connection (see `RawTCPListener`).
    init(acceptedFD: Int32) {
        fd = acceptedFD
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var address = Self.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = SocketError("connect to 127.0.0.1:\(port)")
            sysClose(fd)
            throw error
        }
    }

    deinit { close() }

    /// The local (ephemeral) port of this connection: the coordinator's logs name it.
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { sysSend(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw SocketError("send") }
            offset += written
        }
    }

    /// The next `\n`-terminated line (without it), or nil when the peer closed first.
    /// Throws `TimedOut` when neither happens within `timeout`.
    func readLine(timeout: Duration) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = takeLine() { return line }
            guard try fill(until: deadline) else { return nil }
        }
    }

    /// Everything until the peer closes. Throws `TimedOut` if it does not close within `timeout`.
    func readToEnd(timeout: Duration) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while try fill(until: deadline) {}
        return buffer.withLock { buffer in
            defer { buffer.removeAll() }
            return buffer
        }
    }

    /// True when the peer closes the connection within `timeout` (data before the close is discarded).
    func waitForClose(timeout: Duration) -> Bool {
        (try? readToEnd(timeout: timeout)) != nil
    }

    func close() {
        if !closed.exchange(true, ordering: .relaxed) { sysClose(fd) }
    }

    private func takeLine() -> String? {
        buffer.withLock { buffer in
            guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            return line
        }
    }

    /// Reads once; false at end of stream (or a reset, which is also the peer going away).
    private func fill(until deadline: ContinuousClock.Instant) throws -> Bool {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw TimedOut(what: "reading from the socket", after: remaining) }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let millis = Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
        let ready = poll(&descriptor, 1, millis)
        if ready < 0 {
            if errno == EINTR { return true }
            throw SocketError("poll")
        }
        if ready == 0 { throw TimedOut(what: "reading from the socket", after: .milliseconds(Int64(millis))) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return true }
            if errno == ECONNRESET { return false }
            throw SocketError("recv")
        }
        if count == 0 { return false }
        buffer.withLock { $0.append(contentsOf: chunk[..<count]) }
        return true
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A blocking listener on 127.0.0.1 (port 0) for playing a peer by hand: a scripted fake coordinator.
final class RawTCPListener: Sendable {
    private let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var address = RawTCPConnection.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            sysClose(fd)
            throw SocketError("bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { sysClose(fd) }

    /// The next connection, or `TimedOut` when none comes within `timeout`.
    func accept(timeout: Duration) throws -> RawTCPConnection {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let millis = Int32(max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        guard poll(&descriptor, 1, millis) == 1 else { throw TimedOut(what: "accepting a connection", after: timeout) }
        let client = Glibc.accept(fd, nil, nil)
        guard client >= 0 else { throw SocketError("accept") }
        return RawTCPConnection(acceptedFD: client)
    }
}

// File-scope wrappers: inside `RawTCPConnection`, `close` and `send` name its own methods.
private func sysClose(_ fd: Int32) { _ = close(fd) }
private func sysSend(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int { send(fd, bytes, count, flags) }

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
/// For subprocesses that cannot report the port they bound.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError("socket") }
    defer { sysClose(fd) }
    var address = RawTCPConnection.loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw SocketError("bind") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
