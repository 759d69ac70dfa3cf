import Foundation
import StampedeTestSupport
import Testing

/// `--config FILE`: a YAML scenario file whose keys are the command's flags.
@Suite("--config scenario files", .serialized)
struct ConfigFileTests {
    func write(_ text: String, in dir: URL, name: String = "scenario.yaml") throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("a scenario file sets stages, SLO and extra body; a flag on the command line wins", .timeLimit(.minutes(2)))
    func scenarioFileDrivesTheRun() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try write("""
            # users step 1 -> 3; the SLO and the extra body as YAML lists and maps
            name: from-yaml
            users: 3
            spawn-rate: 100
            mean-output-tokens: 5
            stddev-output-tokens: 0
            stages:
              - 1u:1s
              - 3u:1s
            slo: [ttft_p90<=5s, error_rate<=1%]
            extra-body: {temperature: 0, stop: ["\\n"]}
            quiet: true
            correctness: false
            ttft-ms: 5
            itl-ms: 1
            """, in: dir)
        let json = dir.appendingPathComponent("run.json").path
        let run = try ChildProcess(["run", "--config", config, "--json", json, "--name", "from-flags"])
        let status = await run.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "stderr: \(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(report["name"] as? String == "from-flags", "the command line's --name wins over the file's")
        let scenario = try #require(report["scenario"] as? [String: Any])
        let stages = try #require(scenario["stages"] as? [[String: Any]])
        #expect(stages.map { $0["users"] as? Int } == [1, 3])
        let extra = try #require(scenario["extra_body"] as? [String: Any], "\(scenario.keys.sorted())")
        #expect(extra["temperature"] as? Int == 0 && extra["stop"] as? [String] == ["\n"])
        #expect((report["stages"] as? [Any])?.count == 2)
        let slo = try #require(report["slo"] as? [String: Any])
        #expect((slo["clauses"] as? [[String: Any]])?.map { $0["expression"] as? String } == ["ttft_p90<=5s", "error_rate<=1%"])
        #expect(!run.stderr.contains("[1s]"), "quiet: true turns the live line off: \(run.stderr)")
    }

    @Test("a bad scenario file is refused before any load, naming the file or the flag", arguments: [
        ("users: [1\n", "not valid YAML"),
        ("- users\n", "expected a map of flag names"),
        ("users:\n", "'users' has no value"),
        ("Users: 3\n", "is not a flag name"),
        ("userz: 3\n", "Unknown option '--userz'"),
        ("users: -1\n", "--users: must be at least 1"),
        ("run-time: soon\n", "--run-time"),
        ("stages: [5u]\n", "--stages"),
        ("config: other.yaml\n", "cannot be set in a scenario file"),
        // A "billion laughs" inside extra-body: 9 levels of 9 aliases stand for 9^9 strings. Before, it
        // was expanded until the process was killed at 2 GB.
        (billionLaughs, "too large: more than 10000 YAML values"),
        ("mean-input-tokens: 100000000\n", "--mean-input-tokens: must be between 1 and 200000"),
    ])
    func badFiles(_ text: String, mentions: String) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try write(text, in: dir)
        let run = try ChildProcess(["run", "--config", config])
        let status = await run.waitForExit(timeout: .seconds(20))
        #expect(status == 64, "\(text): \(run.stderr)")
        #expect(run.stderr.contains(mentions), "\(text): \(run.stderr)")
        #expect(!run.stderr.contains("benchmarking"), "load started: \(run.stderr)")
    }

    static let billionLaughs = "extra-body:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + (1..<9).map { level -> String in
            let (name, previous) = (String(UnicodeScalar(UInt8(97 + level))), String(UnicodeScalar(UInt8(96 + level))))
            return "  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
        }.joined()

    @Test("a file larger than 1 MiB is refused without reading it all")
    func aHugeFileIsRefused() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try write("name: x\n" + String(repeating: "# padding\n", count: 120_000), in: dir)
        let run = try ChildProcess(["run", "--config", config])
        #expect(await run.waitForExit(timeout: .seconds(20)) == 64)
        #expect(run.stderr.hasPrefix("Error: --config \(config): larger than 1 MiB"), "\(run.stderr)")
    }

    @Test("docs/examples/scenario.yaml runs as written (its stages shortened on the command line)", .timeLimit(.minutes(2)))
    func theExampleFileRuns() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = root.appendingPathComponent("docs/examples/scenario.yaml").path
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json").path
        let run = try ChildProcess(["run", "--config", example, "--stages", "2u:1s", "--mean-output-tokens", "5", "--stddev-output-tokens", "0",
                             "--ttft-ms", "5", "--itl-ms", "1", "--quiet", "--json", json])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Stampede report: llama2-70b-ramp"), "\(run.stdout)")
        #expect(run.stdout.contains("SLO PASSED (4 of 4 clauses met)"), "\(run.stdout)")
        #expect(FileManager.default.fileExists(atPath: json))
    }

    @Test func aMissingFileIsAOneLineError() async throws {
        let run = try ChildProcess(["run", "--config", "/nonexistent/scenario.yaml"])
        #expect(await run.waitForExit(timeout: .seconds(20)) == 64)
        #expect(run.stderr.hasPrefix("Error: --config /nonexistent/scenario.yaml: cannot read the file"), "\(run.stderr)")
    }
}
