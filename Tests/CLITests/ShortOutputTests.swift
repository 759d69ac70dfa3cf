import Foundation
import StampedeTestSupport
import Testing

/// `short_output`: a server that stops early while all of `max_tokens` was asked for (`ignore_eos`),
/// and `--min-output-ratio`, end to end through the binary against a scripted server that always
/// answers 2 tokens.
@Suite("Short outputs and --min-output-ratio", .serialized)
struct ShortOutputTests {
    /// A chat stream of 2 answer tokens, `usage.completion_tokens` 2, `[DONE]`.
    static func twoTokens() -> [ScriptedServer.Step] {
        func event(_ json: String) -> String { "data: \(json)\n\n" }
        let token = #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"#
        let finish = #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
        let usage = #"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}"#
        return [.streamHead, .chunk(event(token) + event(token)), .chunk(event(finish) + event(usage) + "data: [DONE]\n\n"), .end]
    }

    func run(_ extra: [String], server: ScriptedServer, dir: URL, status expected: Int32 = 0) async throws -> (overall: [String: Any], stdout: String) {
        let json = dir.appendingPathComponent("run-\(UUID().uuidString).json").path
        let child = try ChildProcess(["run", "--target", server.baseURL, "--users", "1", "--max-requests", "4",
                                      "--mean-output-tokens", "10", "--stddev-output-tokens", "0", "--quiet", "--json", json] + extra)
        let status = await child.waitForExit(timeout: .seconds(60))
        #expect(status == expected, "stderr: \(child.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        return (try #require(report["overall"] as? [String: Any]), child.stdout)
    }

    @Test("ignore_eos: 2 of 10 tokens is a short output, counted apart but still a success", .timeLimit(.minutes(2)))
    func ignoreEOSCountsShortOutputs() async throws {
        let server = try ScriptedServer(script: { _ in Self.twoTokens() })
        defer { server.stop() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let asked = try await run(["--extra-body", #"{"ignore_eos": true}"#], server: server, dir: dir)
        #expect(asked.overall["requests_succeeded"] as? Int == 4)
        #expect(asked.overall["short_outputs"] as? Int == 4)
        #expect(asked.stdout.contains("short outputs: 4 of 4 requests"), "\(asked.stdout)")

        // Without ignore_eos or min_tokens, stopping early is the model's right: not short.
        let plain = try await run([], server: server, dir: dir)
        #expect(plain.overall["requests_succeeded"] as? Int == 4)
        #expect(plain.overall["short_outputs"] as? Int == 0)
        #expect(!plain.stdout.contains("short outputs"))
    }

    @Test("--min-output-ratio 0.5 fails 2 of 10 tokens as short_output; 0.2 lets it pass", .timeLimit(.minutes(2)))
    func minOutputRatioFails() async throws {
        let server = try ScriptedServer(script: { _ in Self.twoTokens() })
        defer { server.stop() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        // Every request failed: the run's exit code is 1.
        let strict = try await run(["--min-output-ratio", "0.5"], server: server, dir: dir, status: 1)
        #expect(strict.overall["requests_failed"] as? Int == 4)
        #expect((strict.overall["errors_by_class"] as? [String: Int]) == ["short_output": 4])
        #expect(strict.overall["short_outputs"] as? Int == 4)
        #expect(strict.stdout.contains("short_output=4"), "\(strict.stdout)")

        let lenient = try await run(["--min-output-ratio", "0.2"], server: server, dir: dir)
        #expect(lenient.overall["requests_failed"] as? Int == 0)
        #expect(lenient.overall["short_outputs"] as? Int == 0)
    }

    @Test("min-output-ratio in a --config file is range-checked like the flag")
    func configFileRatio() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("scenario.yaml")
        try "min-output-ratio: 2\n".write(to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(["run", "--config", config.path])
        let status = await child.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        #expect(child.stderr.contains("--min-output-ratio"), "stderr: \(child.stderr)")
    }
}
