import Foundation
import StampedeTestSupport
import Testing

/// `stampede sweep` as a user runs it.
@Suite("stampede sweep", .serialized)
struct SweepCommandTests {
    static let shortSteps = ["--step-time", "1s", "--warmup", "300ms", "--max-steps", "6", "--quiet",
                             "--mean-input-tokens", "20", "--stddev-input-tokens", "0",
                             "--mean-output-tokens", "10", "--stddev-output-tokens", "0"]

    @Test("bad sweep flags are refused before any load, with a one-line error", arguments: [
        (["--knee-factor", "1"], "--knee-factor"),
        (["--run-time", "5s"], "--run-time"),
        (["--max-requests", "3"], "--max-requests"),
        (["--step-time", "soon"], "--step-time"),
        (["--expect-workers", "2"], "--target"),
        (["--expect-workers", "-1"], "--expect-workers"),
        (["--arrival", "gamma"], "--by rate"),
        (["--slo", "ttft_p90<=fast"], "--slo"),
    ])
    func badFlags(_ args: [String], mentions: String) async throws {
        let child = try ChildProcess(["sweep"] + args)
        let status = await child.waitForExit(timeout: .seconds(20))
        #expect(status == 64, "\(args): \(child.stderr)")
        #expect(child.stderr.contains(mentions), "\(args): \(child.stderr)")
        #expect(!child.stderr.contains("listening") && !child.stderr.contains("sweeping"), "load started: \(child.stderr)")
    }

    @Test("on two worker processes over TCP the knee falls at the mock's --max-batch; answers go to JSON",
          .timeLimit(.minutes(2)))
    func sweepOnTwoWorkerProcesses() async throws {
        let (mock, url) = try await startMock(["--max-batch", "4", "--decode-ms", "10", "--prefill-ms-per-token", "0"])
        defer { mock.kill() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("sweep.json").path
        // The knee is under test, not the generator self-check: a loaded machine must not stop the sweep.
        let sweep = try ChildProcess(["sweep", "--target", url, "--expect-workers", "2", "--bind", "127.0.0.1:0",
                               "--json", json, "--saturation-cpu", "1024", "--saturation-lag-ms", "3600000"] + Self.shortSteps)
        defer { sweep.kill() }
        #expect(await sweep.waitFor("waiting for 2 worker(s)", timeout: .seconds(20)), "\(sweep.stderr)")
        // The port is in the "listening on 127.0.0.1:PORT;" line.
        let port = try #require(sweep.stderr.split(separator: "listening on 127.0.0.1:").last?.split(separator: ";").first.map(String.init))
        let workers = try ["wa", "wb"].map { try ChildProcess(["worker", "--coordinator", "127.0.0.1:\(port)", "--name", $0]) }
        defer { for worker in workers { worker.kill() } }

        let status = await sweep.waitForExit(timeout: .seconds(90))
        #expect(status == 0, "stderr: \(sweep.stderr)")
        for worker in workers {
            // Each worker served every step on one connection, then was told to quit.
            #expect(await worker.waitForExit(timeout: .seconds(10)) == 0, "\(worker.stderr)")
            #expect(worker.stderr.components(separatedBy: "joined coordinator").count - 1 == 1, "\(worker.stderr)")
        }
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let steps = try #require(report["steps"] as? [[String: Any]])
        let answers = try #require(report["answers"] as? [String: Any])
        let trace = steps.map { "\($0["users"] ?? "?"): \($0["verdict"] ?? "?")" }
        #expect(steps.count >= 4, "\(trace)")
        let top = try #require((answers["max_throughput"] as? [String: Any])?["users"] as? Int, "\(trace)")
        let knee = try #require((answers["knee"] as? [String: Any])?["users"] as? Int, "\(trace)")
        #expect(top >= 4 && top < 8, "\(trace)")
        #expect(knee > 4 && knee <= 8, "\(trace)")
        #expect(sweep.stdout.contains("largest RPS before the knee"), "\(sweep.stdout)")
    }
}
