import Foundation
import StampedeTestSupport
import Testing

/// `requests_received` from the mock's `GET /stats`.
private func requestsReceived(_ baseURL: String) async throws -> Int {
    let port = try #require(baseURL.split(separator: ":").last.flatMap { Int($0) }, "\(baseURL)")
    return try await fetchMockStats(port: port).requestsReceived
}

@Suite("stampede run --slo and prices", .serialized)
struct SLOCostCLITests {
    static let load = ["--users", "2", "--spawn-rate", "50", "--max-requests", "10",
                       "--mean-output-tokens", "5", "--stddev-output-tokens", "0", "--quiet"]

    @Test(.timeLimit(.minutes(2)))
    func aFailingSLOExitsOneAndNamesTheClause() async throws {
        let (mock, url) = try await startMock(["--ttft-ms", "100", "--itl-ms", "5"])
        defer { mock.kill() }
        let run = try ChildProcess(["run", "--target", url, "--slo", "ttft_p50<=10ms,error_rate<=1%"] + Self.load)
        let status = await run.waitForExit(timeout: .seconds(60))
        #expect(status == 1, "stderr: \(run.stderr)")
        let out = run.stdout
        #expect(out.contains("SLO FAILED (1 of 2 clauses not met)"), "\(out)")
        let failing = out.split(separator: "\n").first { $0.hasPrefix("  ttft_p50<=10ms ") }   // the clause's table row
        #expect(failing != nil, "\(out)")
        #expect(failing?.contains(" ms  FAIL") == true, "\(out)")   // measured (about 100 ms), then FAIL
        #expect(out.contains("goodput: 0 of 10 finished requests"))
    }

    @Test(.timeLimit(.minutes(2)))
    func aPassingSLOExitsZeroAndReportsEveryClauseAndTheCost() async throws {
        let (mock, url) = try await startMock(["--ttft-ms", "100", "--itl-ms", "5"])
        defer { mock.kill() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json").path
        let run = try ChildProcess(["run", "--target", url, "--slo", "ttft_p50<=5s,e2e_p99<=30s,error_rate<=1%",
                             "--price-input-per-mtok", "0.7", "--price-output-per-mtok", "2.8",
                             "--price-per-hour", "4", "--replicas", "2", "--json", json] + Self.load)
        let status = await run.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "stderr: \(run.stderr)")
        let out = run.stdout
        #expect(out.contains("SLO PASSED (3 of 3 clauses met)"), "\(out)")
        for clause in ["ttft_p50<=5s", "e2e_p99<=30s", "error_rate<=1%"] { #expect(out.contains(clause)) }
        #expect(out.contains("goodput: 10 of 10 finished requests"))
        #expect(out.contains("Cost (USD)"))
        #expect(out.contains("per 1M output tokens"))
        #expect(out.contains("$4.00/h x 2 replicas = $8.00/h"))

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let slo = try #require(report["slo"] as? [String: Any])
        #expect(slo["passed"] as? Bool == true)
        let clauses = try #require(slo["clauses"] as? [[String: Any]])
        #expect(clauses.map { $0["expression"] as? String } == ["ttft_p50<=5s", "e2e_p99<=30s", "error_rate<=1%"])
        #expect(clauses.map { $0["metric"] as? String } == ["ttft_p50", "e2e_p99", "error_rate"])
        #expect(clauses.allSatisfy { $0["op"] as? String == "<=" && $0["passed"] as? Bool == true && $0["measured"] is Double })
        let ttft = try #require(clauses[0]["measured"] as? Double)
        #expect(abs(ttft - 0.1) < 0.02, "p50 TTFT \(ttft)")

        // Per-token cost of every request from its own token counts; 5 output tokens each (usage).
        let overall = try #require(report["overall"] as? [String: Any])
        let inputTotal = try #require(overall["input_tokens_total"] as? Int)
        let outputTotal = try #require(overall["output_tokens_total"] as? Int)
        #expect(outputTotal == 50)
        let cost = try #require(report["cost"] as? [String: Any])
        let perToken = try #require(cost["per_token"] as? [String: Any])
        let total = (Double(inputTotal) * 0.7 + Double(outputTotal) * 2.8) / 1e6
        #expect(abs((perToken["total_usd"] as? Double ?? 0) - total) < 1e-12)
        #expect(abs((perToken["per_thousand_requests"] as? Double ?? 0) - total / 10 * 1000) < 1e-9)
        let dedicated = try #require(cost["dedicated"] as? [String: Any])
        let duration = try #require(report["duration_seconds"] as? Double)
        #expect(abs((dedicated["total_usd"] as? Double ?? 0) - 8 * duration / 3600) < 1e-12)
    }

    static let malformed: [[String]] = [
        ["--slo", "ttft_p91<=2s"],
        ["--slo", "ttft_p90<=2"],
        ["--slo", "error_rate<=5"],
    ]

    @Test(.timeLimit(.minutes(2)), arguments: malformed)
    func aMalformedSLOIsRejectedBeforeAnyLoad(_ flags: [String]) async throws {
        let (mock, url) = try await startMock(["--ttft-ms", "100", "--itl-ms", "5"])
        defer { mock.kill() }
        let run = try ChildProcess(["run", "--target", url] + flags + Self.load)
        let status = await run.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        #expect(run.stderr.hasPrefix("Error: --slo: clause '\(flags[1])'"), "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("Stampede report"))
        #expect(try await requestsReceived(url) == 0)
    }

    static let badPrices: [([String], String)] = [
        (["--price-per-hour=-4"], "--price-per-hour"),
        (["--price-input-per-mtok=-0.7"], "--price-input-per-mtok"),
        (["--price-output-per-mtok=-2.8"], "--price-output-per-mtok"),
        (["--price-per-hour", "4", "--replicas", "0"], "--replicas"),
        (["--replicas", "2"], "--replicas"),
    ]

    @Test(arguments: badPrices)
    func badPricesNameTheFlag(_ flags: [String], _ flag: String) async throws {
        let run = try ChildProcess(["run"] + flags)
        let status = await run.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        #expect(run.stderr.hasPrefix("Error: \(flag):"), "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("Stampede report"))
    }
}
