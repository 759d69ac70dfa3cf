import Foundation
import StampedeTestSupport
import Testing

/// An interrupted run writes its partial report, then exits 130 (SIGINT) or 143 (SIGTERM), so that
/// `timeout 60 stampede run …` in CI is not taken for a pass.
@Suite("SIGINT and SIGTERM: partial report, then 130 or 143", .serialized)
struct InterruptTests {
    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func interruptedRunExitsWithTheSignalsCode(_ signo: Int32, _ expected: Int32) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json").path
        let jsonl = dir.appendingPathComponent("requests.jsonl").path
        let run = try ChildProcess(["run", "--users", "2", "--spawn-rate", "100", "--run-time", "120s", "--decode-ms", "5",
                             "--mean-output-tokens", "10", "--stddev-output-tokens", "0", "--json", json, "--requests-jsonl", jsonl])
        defer { run.kill() }
        // The live line shows a second of load has passed.
        #expect(await run.waitFor("[1s]", timeout: .seconds(30)), "\(run.stderr)")
        kill(run.process.processIdentifier, signo)
        let status = await run.waitForExit(timeout: .seconds(30))
        #expect(status == expected, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("stopped by interrupted"), "\(run.stdout)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(report["stop_reason"] as? String == "interrupted")
        let overall = try #require(report["overall"] as? [String: Any])
        #expect((overall["requests_finished"] as? Int ?? 0) > 0)
        let records = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n")
        #expect(!records.isEmpty)
    }

    @Test func helpNamesTheCodes() async throws {
        let child = try ChildProcess(["run", "--help"])
        _ = await child.waitForExit(timeout: .seconds(20))
        #expect(child.stdout.contains("130 (SIGINT"), "\(child.stdout)")
        #expect(child.stdout.contains("143"), "\(child.stdout)")
    }
}
