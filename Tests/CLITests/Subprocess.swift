import Foundation
import Synchronization

/// Runs the built `stampede` binary for black-box tests of the CLI.
enum StampedeBinary {
    /// `.build/debug/stampede`, found next to the test bundle or from this file's path.
    static var path: String? {
        var candidates: [URL] = []
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(testBinary.deletingLastPathComponent().appendingPathComponent("stampede"))
        candidates.append(testBinary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("stampede"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/stampede"))
        return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// A child process with captured output. Killed on `terminate()` or deinit.
final class Child: Sendable {
    let process: Process
    private let out = OutputBuffer()
    private let err = OutputBuffer()

    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        guard let binary = StampedeBinary.path else { throw SubprocessError("stampede binary not built; run `swift build` first") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let out = self.out
        let err = self.err
        stdout.fileHandleForReading.readabilityHandler = { out.append($0.availableData) }
        stderr.fileHandleForReading.readabilityHandler = { err.append($0.availableData) }
        try process.run()
    }

    var stdout: String { out.text }
    var stderr: String { err.text }

    /// Waits for exit up to `timeout`; returns the exit status, or nil on timeout.
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        try? await Task.sleep(for: .milliseconds(100))  // let the pipes drain
        return process.terminationStatus
    }

    /// Waits until stdout or stderr contains `text`.
    func waitFor(_ text: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdout.contains(text) || stderr.contains(text) { return true }
            if !process.isRunning { return stdout.contains(text) || stderr.contains(text) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { terminate() }
}

/// Bytes a pipe delivered so far. Sendable: its only state is behind a Mutex.
final class OutputBuffer: Sendable {
    private let data = Mutex(Data())
    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
}

struct SubprocessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts `stampede mock` on a free port and returns it with its base URL.
func startMock(_ extra: [String]) async throws -> (Child, String) {
    let mock = try Child(["mock", "--port", "0"] + extra)
    // The URL line is on stdout; the server's log (stderr) may say "listening on" first.
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
        if let line = mock.stdout.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
           let start = line.range(of: "http://") {
            return (mock, String(line[start.lowerBound...]).trimmingCharacters(in: .whitespaces))
        }
        if !mock.process.isRunning { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    mock.terminate()
    throw SubprocessError("mock did not start: \(mock.stderr)")
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
