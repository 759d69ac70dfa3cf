import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `stampede` executable, for the subprocess tests.
enum StampedeBinary {
    /// Next to the test bundle (`.build/<triple>/debug/`), else `<package root>/.build/debug/stampede`.
    static let path: String? = {
        var candidates: [URL] = []
        for start in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap({ $0 }) {
            let resolved = start.resolvingSymlinksInPath()
            var directory = resolved.deletingLastPathComponent()
            // Walk out of an .xctest bundle (macOS) to the build directory.
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent("stampede"))
                directory = directory.deletingLastPathComponent()
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/stampede"))
        return candidates.map(\.path).first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: path)
        }
    }()

    /// The user a child runs as. As root (CI, containers) every child runs as `nobody` (65534)
    /// through `setpriv`, so a call that needs privilege fails here as it would for a user; the
    /// binary and its resource bundle are copied to a world-readable folder first, since the
    /// checkout may sit under a folder only root can enter. Nil: run the binary as it is.
    static let unprivileged: (setpriv: String, binary: String)? = {
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

    /// Executable and arguments for a child: `setpriv --reuid 65534 … stampede ARGS` as root.
    static func command(_ arguments: [String]) -> (String, [String])? {
        if let (setpriv, binary) = unprivileged {
            return (setpriv, ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--", binary] + arguments)
        }
        return path.map { ($0, arguments) }
    }

    /// For `.enabled(if:)`: prints why the test is skipped.
    static var isAvailable: Bool {
        if path == nil { print("ClusterTests: skipping subprocess tests: the stampede binary is not built (run `swift build` first)") }
        return path != nil
    }
}

/// One line a child wrote, with when the test saw it.
struct TimedLine: Sendable {
    enum Stream: String, Sendable { case stdout, stderr }
    let stream: Stream
    let text: String
    let at: ContinuousClock.Instant
}

/// A `stampede` subprocess whose stdout and stderr are captured line by line, with arrival times.
/// `kill()` (SIGKILL) is idempotent; deinit kills a child that is still running.
final class ChildProcess: Sendable {
    let name: String
    let process: Process
    private let captured = Mutex<[TimedLine]>([])
    private let partial = Mutex<[TimedLine.Stream: [UInt8]]>([:])

    init(name: String, arguments: [String]) throws {
        guard let (executable, fullArguments) = StampedeBinary.command(arguments) else { throw SocketError(message: "the stampede binary is not built") }
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = fullArguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "STAMPEDE_TOKEN")
        process.environment = environment
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

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Sends SIGKILL if the child is still running.
    func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning { _ = sysKill(process.processIdentifier, signal) }
    }

    var lines: [TimedLine] { captured.withLock { $0 } }

    /// Everything captured so far, for failure messages.
    var transcript: String {
        lines.map { "[\(name) \($0.stream.rawValue)] \($0.text)" }.joined(separator: "\n")
    }

    func firstLine(where match: (String) -> Bool) -> TimedLine? {
        lines.first { match($0.text) }
    }

    /// Waits for a line (either stream) that `match` accepts.
    func waitForLine(timeout: Duration, where match: @escaping @Sendable (String) -> Bool) async -> TimedLine? {
        var found: TimedLine?
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            found = firstLine(where: match)
            if found != nil || !isRunning { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return found ?? firstLine(where: match)
    }

    /// Counts lines (either stream) that `match` accepts.
    func count(where match: (String) -> Bool) -> Int {
        lines.filter { match($0.text) }.count
    }

    /// Waits for the child to exit; its exit status, or nil if it is still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Let the pipes deliver what the child wrote last.
        try? await Task.sleep(for: .milliseconds(150))
        return process.terminationStatus
    }

    private func append(_ bytes: [UInt8], from stream: TimedLine.Stream) {
        let now = ContinuousClock.now
        let complete: [String] = partial.withLock { partial in
            var pending = partial[stream, default: []] + bytes
            var lines: [String] = []
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            partial[stream] = pending
            return lines
        }
        guard !complete.isEmpty else { return }
        captured.withLock { $0 += complete.map { TimedLine(stream: stream, text: $0, at: now) } }
    }

    private func finish(_ stream: TimedLine.Stream) {
        let rest = partial.withLock { $0.removeValue(forKey: stream) ?? [] }
        guard !rest.isEmpty else { return }
        captured.withLock { $0.append(TimedLine(stream: stream, text: String(decoding: rest, as: UTF8.self), at: .now)) }
    }
}

// File scope: inside `ChildProcess`, `kill` names its own method.
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

private func sysKill(_ pid: pid_t, _ signal: Int32) -> Int32 { kill(pid, signal) }

/// Kills every child on scope exit: `defer { children.killAll() }`.
final class Children: Sendable {
    private let all = Mutex<[ChildProcess]>([])

    @discardableResult
    func launch(_ name: String, _ arguments: [String]) throws -> ChildProcess {
        let child = try ChildProcess(name: name, arguments: arguments)
        all.withLock { $0.append(child) }
        return child
    }

    func killAll() {
        for child in all.withLock({ $0 }) { child.kill() }
    }

    var transcript: String { all.withLock { $0 }.map(\.transcript).joined(separator: "\n") }
}
