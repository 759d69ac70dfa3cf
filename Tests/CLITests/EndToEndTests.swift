import Foundation
import StampedeTestSupport
import Testing

/// The acceptance test of the engine: the CLI against `stampede mock` in fixed-delay mode.
@Suite("stampede run against stampede mock", .serialized)
struct EndToEndTests {
    @Test(.timeLimit(.minutes(2)))
    func fixedDelayRunReportsTheConfiguredLatencies() async throws {
        let (mock, url) = try await startMock(["--ttft-ms", "200", "--itl-ms", "20"])
        defer { mock.kill() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json").path
        let llmperf = dir.appendingPathComponent("llmperf").path
        let jsonl = dir.appendingPathComponent("requests.jsonl").path
        let run = try ChildProcess(["run", "--target", url, "--users", "5", "--spawn-rate", "50", "--max-requests", "100",
                             "--mean-output-tokens", "50", "--stddev-output-tokens", "0", "--quiet",
                             "--json", json, "--llmperf-dir", llmperf, "--requests-jsonl", jsonl])
        let status = await run.waitForExit(timeout: .seconds(90))
        #expect(status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("TTFT"))
        #expect(run.stdout.contains("(last token chunk - first token chunk) / (output tokens - 1)"))

        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let overall = report["overall"] as! [String: Any]
        #expect(overall["requests_finished"] as? Int == 100)
        #expect(overall["requests_failed"] as? Int == 0)
        let latency = overall["latency"] as! [String: [String: Any]]
        let ttftP50 = latency["ttft"]!["p50"] as! Double
        let itlP50 = latency["itl"]!["p50"] as! Double
        #expect(abs(ttftP50 - 0.200) <= 0.200 * 0.05, "p50 TTFT \(ttftP50)")
        #expect(abs(itlP50 - 0.020) <= 0.020 * 0.05, "p50 ITL \(itlP50)")
        let outputTokens = overall["output_tokens"] as! [String: Any]
        #expect(outputTokens["min"] as? Double == 50)
        #expect(outputTokens["max"] as? Double == 50)
        #expect((report["time_series"] as? [Any])?.isEmpty == false)
        #expect((report["formulas"] as? [String: String])?["itl"] != nil)

        // Raw records: one line per request, 50 token chunks each.
        let lines = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 100)

        // LLMPerf's files, read by Python's json module, with LLMPerf's flat keys.
        let check = """
        import json, glob, sys
        s = json.load(open(glob.glob(sys.argv[1] + '/*_summary.json')[0]))
        r = json.load(open(glob.glob(sys.argv[1] + '/*_individual_responses.json')[0]))
        keys = ['results_ttft_s_quantiles_p50', 'results_inter_token_latency_s_quantiles_p90', 'results_end_to_end_latency_s_mean',
                'results_num_completed_requests', 'results_num_completed_requests_per_min', 'results_mean_output_throughput_token_per_s',
                'results_error_rate', 'results_number_errors', 'results_error_code_frequency',
                'results_number_input_tokens_mean', 'results_number_output_tokens_quantiles_p50']
        missing = [k for k in keys if k not in s]
        assert not missing, missing
        assert s['results_num_completed_requests'] == 100, s['results_num_completed_requests']
        assert s['results_number_output_tokens_quantiles_p50'] == 50
        assert len(r) == 100 and r[0]['number_output_tokens'] == 50 and r[0]['error_code'] is None
        print('llmperf-ok')
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", check, llmperf]
        let pipe = Pipe()
        python.standardOutput = pipe
        python.standardError = pipe
        try python.run()
        python.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(python.terminationStatus == 0, "\(output)")
        #expect(output.contains("llmperf-ok"))
    }

    @Test(.timeLimit(.minutes(1)))
    func unreachableTargetIsCountedAndReported() async throws {
        let run = try ChildProcess(["run", "--target", "http://127.0.0.1:9", "--users", "2", "--max-requests", "6", "--quiet"])
        let status = await run.waitForExit(timeout: .seconds(45))
        #expect(status == 1, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(run.stdout.contains("connect=6"), "\(run.stdout)")
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test(.timeLimit(.minutes(1)))
    func embeddedDefaultRunsWithoutATarget() async throws {
        let run = try ChildProcess(["run", "--users", "2", "--spawn-rate", "10", "--run-time", "3s", "--quiet", "--decode-ms", "5",
                             "--mean-output-tokens", "20", "--stddev-output-tokens", "0"])
        let status = await run.waitForExit(timeout: .seconds(45))
        #expect(status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("built-in simulated server"))
        #expect(run.stdout.contains("stopped by run_time"))
    }

    @Test(.timeLimit(.minutes(1)))
    func apiKeyNeverAppearsInOutput() async throws {
        let (mock, url) = try await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--error-rate-500", "1"])
        defer { mock.kill() }
        var env = ProcessInfo.processInfo.environment
        env["STAMPEDE_TEST_KEY"] = "sk-very/secret+value"
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let jsonl = dir.appendingPathComponent("r.jsonl").path
        let run = try ChildProcess(["run", "--target", url, "--api-key-env", "STAMPEDE_TEST_KEY", "--max-requests", "3", "--quiet",
                             "--json", json, "--requests-jsonl", jsonl, "--log-level", "trace"], environment: env)
        _ = await run.waitForExit(timeout: .seconds(30))
        let files = (try? String(contentsOfFile: json, encoding: .utf8) ?? "") ?? ""
        let records = (try? String(contentsOfFile: jsonl, encoding: .utf8)) ?? ""
        #expect(!files.isEmpty)
        for text in [run.stdout, run.stderr, files, records] {
            #expect(!text.contains("sk-very/secret+value") && !text.contains(#"sk-very\/secret+value"#))
        }
        #expect(files.contains("STAMPEDE_TEST_KEY"))  // the variable's name is fine to show
    }
}
