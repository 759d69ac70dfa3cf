import Foundation
import StampedeTestSupport
import Testing

/// More users than file descriptors: one warning line before any load, the client's connections
/// kept within the limit (requests past it wait for one), and a report. Before, the run failed
/// 10,800 connects in 5 s and then died with SIGILL: out of descriptors, the runtime's own timers fail.
@Suite("Open-file limit", .serialized)
struct OpenFileLimitTests {
    @Test("400 users under `ulimit -n 256`: warned before the load, no crash, requests succeed, report written",
          .timeLimit(.minutes(2)))
    func tooFewDescriptors() async throws {
        let binary = try #require(StampedeBinary.path, "stampede binary not built; run `swift build` first")
        let (mock, url) = try await startMock(["--ttft-ms", "50", "--itl-ms", "5"])
        defer { mock.kill() }
        let json = try temporaryDirectory().appendingPathComponent("run.json").path
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/bin/sh")
        run.arguments = ["-c", "ulimit -n 256 && ulimit -Hn 256 && exec \"$@\"", "sh", binary, "run", "--target", url, "--users", "400",
                         "--spawn-rate", "1000", "--run-time", "4s", "--quiet", "--json", json]
        let stderr = Pipe()
        run.standardError = stderr
        run.standardOutput = FileHandle.nullDevice
        try run.run()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationReason == .exit, "killed by a signal: \(text)")
        #expect(text.hasPrefix("warning: --users 400 needs ~500 file descriptors; the limit is 256"), "\(text)")
        #expect(run.terminationStatus == 0, "\(text)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let overall = try #require(result["overall"] as? [String: Any])
        let errors = overall["errors_by_class"] as? [String: Int] ?? [:]
        // Connections stay within the limit: nothing runs out, so no request fails for want of a descriptor.
        #expect(errors["resource"] == nil, "\(errors)")
        #expect((overall["requests_succeeded"] as? Int ?? 0) > 0)
    }
}
