import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `stampede` executable, for the subprocess tests.
public enum StampedeBinary {
    /// Next to the test bundle (`.build/<triple>/debug/`), else `<package root>/.build/debug/stampede`.
    public static let path: String? = {
        var candidates: [URL] = []
        for start in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap({ $0 }) {
            var directory = start.resolvingSymlinksInPath().deletingLastPathComponent()
            // Walk out of an .xctest bundle (macOS) to the build directory.
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent("stampede"))
                directory = directory.deletingLastPathComponent()
            }
        }
        // This file is <package root>/Tests/StampedeTestSupport/Subprocess.swift.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/stampede"))
        return candidates.map(\.path).first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: path)
        }
    }()

    /// For `.unprivileged` children. As root (CI, containers) such a child runs as `nobody` (65534)
    /// through `setpriv`, so a call that needs privilege fails here as it would for a user; the
    /// binary and its resource bundle are copied to a world-readable folder first, since the
    /// checkout may sit under a folder only root can enter. Nil: run the binary as it is.
    public static let unprivileged: (setpriv: String, binary: String)? = {
        guard geteuid() == 0, let path, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
        let source = URL(fileURLWithPath: path).deletingLastPathComponent()
        let folder = URL(fileURLWithPath: "/tmp/stampede-unprivileged-\(getpid())")
        let fm = FileManager.default
        try? fm.removeItem(at: folder)
        guard (try? fm.createDirectory(at: folder, withIntermediateDirectories: true)) != nil else { return nil }
        let names = ((try? fm.contentsOfDirectory(atPath: source.path)) ?? []).filter { $0 == "stampede" || $0.hasSuffix(".resources") }
        for name in names { try? fm.copyItem(at: source.appendingPathComponent(name), to: folder.appendingPathComponent(name)) }
        _ = chmodTree(folder.path)
        let binary = folder.appendingPathComponent("stampede").path
        return fm.isExecutableFile(atPath: binary) ? ("/usr/bin/setpriv", binary) : nil
    }()

    /// Executable and arguments for a child: `setpriv --reuid 65534 … stampede ARGS` for an
    /// unprivileged child as root, else the binary itself.
    public static func command(_ arguments: [String], user: ChildProcess.User) -> (String, [String])? {
        if user == .unprivileged, let (setpriv, binary) = unprivileged {
            return (setpriv, ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--", binary] + arguments)
        }
        return path.map { ($0, arguments) }
    }

    /// For `.enabled(if:)`: prints why the test is skipped.
    public static var isAvailable: Bool {
        if path == nil { print("skipping subprocess tests: the stampede binary is not built (run `swift build` first)") }
        return path != nil
    }
}

/// One line a child wrote, with when the test saw it.
public struct TimedLine: Sendable {
    public enum Stream: String, Sendable { case stdout, stderr }
    public let stream: Stream
    public let text: String
    public let at: ContinuousClock.Instant
}

/// A `stampede` subprocess whose stdout and stderr are captured, as text and line by line with
/// arrival times. `kill()` (SIGKILL) is idempotent; deinit kills a child that is still running.
public final class ChildProcess: Sendable {
    /// Who the child runs as.
    public enum User: Sendable {
        /// As the tests run.
        case current
        /// As `nobody` when the tests run as root (`StampedeBinary.unprivileged`).
        case unprivileged
    }

    /// What a child may write to each stream before the rest is dropped.
    public static let outputLimit = 32 << 20

    private struct Output {
        var text: [TimedLine.Stream: [UInt8]] = [:]
        var partial: [TimedLine.Stream: [UInt8]] = [:]
        var lines: [TimedLine] = []
        var open: Set<TimedLine.Stream> = [.stdout, .stderr]
    }

    public let name: String
    public let process: Process
    private let output = Mutex(Output())

    /// Starts `stampede ARGUMENTS`. With no `environment`, the child gets this process's, less `STAMPEDE_TOKEN`.
    public init(_ arguments: [String], name: String = "stampede", environment: [String: String]? = nil, user: User = .current) throws {
        guard let (executable, fullArguments) = StampedeBinary.command(arguments, user: user) else {
            throw SocketError(message: "the stampede binary is not built; run `swift build` first")
        }
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = fullArguments
        process.environment = environment ?? ProcessInfo.processInfo.environment.filter { $0.key != "STAMPEDE_TOKEN" }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        for (pipe, stream) in [(stdout, TimedLine.Stream.stdout), (stderr, .stderr)] {
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                if data.isEmpty {
                    handle.readabilityHandler = nil
                    self?.finish(stream)
                } else {
                    self?.append(Array(data), from: stream)
                }
            }
        }
        try process.run()
    }

    deinit { kill() }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGKILL) if the child is still running.
    public func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning { _ = sysKill(process.processIdentifier, signal) }
    }

    /// Everything the child wrote to stdout so far.
    public var stdout: String { text(.stdout) }
    /// Everything the child wrote to stderr so far.
    public var stderr: String { text(.stderr) }

    /// The complete lines so far, both streams, in arrival order.
    public var lines: [TimedLine] { output.withLock { $0.lines } }

    /// Everything captured so far, for failure messages.
    public var transcript: String {
        lines.map { "[\(name) \($0.stream.rawValue)] \($0.text)" }.joined(separator: "\n")
    }

    public func firstLine(where match: (String) -> Bool) -> TimedLine? {
        lines.first { match($0.text) }
    }

    /// Counts lines (either stream) that `match` accepts.
    public func count(where match: (String) -> Bool) -> Int {
        lines.filter { match($0.text) }.count
    }

    /// Waits for a line (either stream) that `match` accepts; nil when none came within `timeout`
    /// or the child exited without one.
    public func waitForLine(timeout: Duration, where match: (String) -> Bool) async -> TimedLine? {
        var found: TimedLine?
        _ = await waitUntil(timeout: timeout) {
            found = firstLine(where: match)
            return found != nil || !isRunning
        }
        return found ?? firstLine(where: match)
    }

    /// Waits until stdout or stderr holds `text` (a live line need not end in a newline); false when
    /// it did not within `timeout` or the child exited without writing it.
    public func waitFor(_ text: String, timeout: Duration) async -> Bool {
        let holds = { self.stdout.contains(text) || self.stderr.contains(text) }
        _ = await waitUntil(timeout: timeout) { holds() || !self.isRunning }
        return holds()
    }

    /// Waits for the child to exit and for its pipes to deliver what it wrote last; its exit
    /// status, or nil if it is still running after `timeout`.
    public func waitForExit(timeout: Duration) async -> Int32? {
        guard await waitUntil(timeout: timeout, { !self.isRunning }) else { return nil }
        // Both pipes reach end of file once the child is gone (unless it left a grandchild holding them).
        _ = await waitUntil(timeout: .seconds(2)) { self.output.withLock { $0.open.isEmpty } }
        return process.terminationStatus
    }

    private func text(_ stream: TimedLine.Stream) -> String {
        String(decoding: output.withLock { $0.text[stream] ?? [] }, as: UTF8.self)
    }

    private func append(_ bytes: [UInt8], from stream: TimedLine.Stream) {
        let now = ContinuousClock.now
        output.withLock { output in
            let kept = output.text[stream, default: []].count
            output.text[stream, default: []] += bytes.prefix(max(0, Self.outputLimit - kept))
            var pending = output.partial[stream, default: []] + bytes
            var complete: [TimedLine] = []
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                complete.append(TimedLine(stream: stream, text: String(decoding: pending[..<newline], as: UTF8.self), at: now))
                pending.removeSubrange(...newline)
            }
            // A line longer than the limit is cut there.
            if pending.count > Self.outputLimit { pending.removeAll() }
            output.partial[stream] = pending
            if output.lines.count < Self.outputLimit / 64 { output.lines += complete }
        }
    }

    private func finish(_ stream: TimedLine.Stream) {
        output.withLock { output in
            let rest = output.partial.removeValue(forKey: stream) ?? []
            if !rest.isEmpty { output.lines.append(TimedLine(stream: stream, text: String(decoding: rest, as: UTF8.self), at: .now)) }
            output.open.remove(stream)
        }
    }
}

/// Starts `stampede mock --port 0 FLAGS` and reads its port from the line it prints.
public func launchMock(_ flags: [String], name: String = "mock", user: ChildProcess.User = .current,
                       timeout: Duration = .seconds(20)) async throws -> (mock: ChildProcess, port: Int) {
    let mock = try ChildProcess(["mock", "--port", "0"] + flags, name: name, user: user)
    let prefix = "stampede mock listening on http://127.0.0.1:"
    // The URL line is on stdout; the server's log (stderr) may say "listening on" first.
    let line = await mock.waitForLine(timeout: timeout) { $0.hasPrefix(prefix) }
    guard let line, let port = Int(line.text.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)) else {
        mock.kill()
        throw SocketError(message: "mock did not start:\n\(mock.transcript)")
    }
    return (mock, port)
}

/// Kills every child on scope exit: `defer { children.killAll() }`.
public final class Children: Sendable {
    private let all = Mutex<[ChildProcess]>([])

    public init() {}

    /// Starts `stampede ARGUMENTS` as an unprivileged child.
    @discardableResult
    public func launch(_ name: String, _ arguments: [String]) throws -> ChildProcess {
        adopt(try ChildProcess(arguments, name: name, user: .unprivileged))
    }

    /// Starts an unprivileged `stampede mock`; returns it with its port.
    public func launchMock(_ flags: [String]) async throws -> (mock: ChildProcess, port: Int) {
        let (mock, port) = try await StampedeTestSupport.launchMock(flags, user: .unprivileged, timeout: .seconds(10))
        return (adopt(mock), port)
    }

    private func adopt(_ child: ChildProcess) -> ChildProcess {
        all.withLock { $0.append(child) }
        return child
    }

    public func killAll() {
        for child in all.withLock({ $0 }) { child.kill() }
    }

    public var transcript: String { all.withLock { $0 }.map(\.transcript).joined(separator: "\n") }
}

// File scope: inside `ChildProcess`, `kill` names its own method.
private func sysKill(_ pid: pid_t, _ signal: Int32) -> Int32 { kill(pid, signal) }

/// `chmod -R a+rX`: directories 755, files 644 or 755 (executables).
private func chmodTree(_ path: String) -> Bool {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
    let executable = isDirectory.boolValue || fm.isExecutableFile(atPath: path)
    _ = chmod(path, executable ? 0o755 : 0o644)
    if isDirectory.boolValue {
        for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] { _ = chmodTree(path + "/" + name) }
    }
    return true
}

/// A new empty folder under the temporary directory.
public func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
