import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket call failed, with the `errno` text.
public struct SocketError: Error, CustomStringConvertible {
    public let description: String
    public init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
    public init(message: String) { description = message }
}

/// Blocking IPv4 sockets on 127.0.0.1: the one place the raw-socket test helpers (`RawTCPConnection`,
/// `RawTCPListener`, `RawHTTP`, `ScriptedServer`) make, bind, connect and write sockets.
public enum Loopback {
    public static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A connected socket; with `receiveTimeout`, a blocking `recv` gives up after it (`SO_RCVTIMEO`).
    public static func connect(port: Int, receiveTimeout: Duration? = nil) throws -> Int32 {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw SocketError("socket") }
        if let receiveTimeout {
            var tv = timeval(tv_sec: Int(receiveTimeout.components.seconds),
                             tv_usec: .init(receiveTimeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = address(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sysConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = SocketError("connect to 127.0.0.1:\(port)")
            _ = close(fd)
            throw error
        }
        return fd
    }

    /// A socket bound to 127.0.0.1 on a free port; listening with `backlog` unless it is nil.
    public static func bind(listenBacklog backlog: Int32?, reuseAddress: Bool = false) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw SocketError("socket") }
        if reuseAddress {
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = address(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sysBind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, backlog.map({ listen(fd, $0) == 0 }) ?? true else {
            let error = SocketError("bind/listen on 127.0.0.1")
            _ = close(fd)
            throw error
        }
        return (fd, localPort(fd))
    }

    /// The local port a socket is bound to.
    public static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Writes all of `bytes`; false when the peer went away (no SIGPIPE).
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Milliseconds for `poll`, at least 1.
    static func pollMillis(_ duration: Duration) -> Int32 {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, millis))
    }

    #if canImport(Glibc)
    static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    static let streamType = SOCK_STREAM
    #endif
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close): nothing
/// listens there, so a connection to it is refused, and a subprocess can be told to bind it.
public func freeLoopbackPort() throws -> Int {
    let (fd, port) = try Loopback.bind(listenBacklog: nil)
    _ = close(fd)
    return port
}

/// A blocking IPv4 TCP connection to 127.0.0.1, for speaking the wire protocol (or HTTP) by hand.
/// Every read is bounded by a timeout (poll). Call its methods through `offload` from async code.
public final class RawTCPConnection: Sendable {
    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let closed = Atomic<Bool>(false)

    /// Wraps an accepted connection (see `RawTCPListener`).
    init(acceptedFD: Int32) {
        fd = acceptedFD
    }

    public init(port: Int) throws {
        fd = try Loopback.connect(port: port)
    }

    deinit { close() }

    /// The local (ephemeral) port of this connection: the coordinator's logs name it.
    public var localPort: Int { Loopback.localPort(fd) }

    public func send(_ text: String) throws {
        guard Loopback.sendAll(fd, Array(text.utf8)) else { throw SocketError("send") }
    }

    /// The next `\n`-terminated line (without it), or nil when the peer closed first.
    /// Throws `TimedOut` when neither happens within `timeout`.
    public func readLine(timeout: Duration) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = takeLine() { return line }
            guard try fill(until: deadline) else { return nil }
        }
    }

    /// Everything until the peer closes. Throws `TimedOut` if it does not close within `timeout`.
    public func readToEnd(timeout: Duration) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while try fill(until: deadline) {}
        return buffer.withLock { buffer in
            defer { buffer.removeAll() }
            return buffer
        }
    }

    /// True when the peer closes the connection within `timeout` (data before the close is discarded).
    public func waitForClose(timeout: Duration) -> Bool {
        (try? readToEnd(timeout: timeout)) != nil
    }

    public func close() {
        if !closed.exchange(true, ordering: .relaxed) { _ = sysClose(fd) }
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
        let millis = Loopback.pollMillis(remaining)
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
}

/// A blocking listener on 127.0.0.1 (a free port) for playing a peer by hand, a scripted fake
/// coordinator say. A listener that is never asked to `accept`, with backlog 0, is a target whose
/// connection attempts hang.
public final class RawTCPListener: Sendable {
    private let fd: Int32
    public let port: Int

    public init(backlog: Int32 = 16) throws {
        (fd, port) = try Loopback.bind(listenBacklog: backlog)
    }

    deinit { _ = sysClose(fd) }

    /// The next connection, or `TimedOut` when none comes within `timeout`.
    public func accept(timeout: Duration) throws -> RawTCPConnection {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Loopback.pollMillis(timeout)) == 1 else { throw TimedOut(what: "accepting a connection", after: timeout) }
        let client = sysAccept(fd, nil, nil)
        guard client >= 0 else { throw SocketError("accept") }
        return RawTCPConnection(acceptedFD: client)
    }
}

// File-scope names: inside the types above, `close`, `send`, `bind`, `connect` and `accept` name their own members.
@discardableResult func sysClose(_ fd: Int32) -> Int32 { close(fd) }
func sysAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    accept(fd, address, length)
}
private func sysBind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 { bind(fd, address, length) }
private func sysConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 { connect(fd, address, length) }
