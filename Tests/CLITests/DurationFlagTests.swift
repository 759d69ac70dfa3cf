import Foundation
import StampedeTestSupport
import Testing

/// Flags, `--config` keys and `--slo` clauses read durations with one grammar (issue 10).
@Suite("One duration grammar on the command line", .serialized)
struct DurationFlagTests {
    /// `slo: [e2e_p99<1h]` was refused ("not a latency") while `run-time: 1h` was accepted.
    @Test("a config file's SLO takes hours, like --run-time", .timeLimit(.minutes(2)))
    func configSLOInHours() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("scenario.yaml")
        try """
            users: 1
            max-requests: 3
            run-time: 1h
            request-timeout: 0.5h
            mean-output-tokens: 3
            stddev-output-tokens: 0
            slo: [e2e_p99<1h, ttft_p90<=1h30m]
            quiet: true
            ttft-ms: 1
            itl-ms: 1
            """.write(to: config, atomically: true, encoding: .utf8)
        let run = try ChildProcess(["run", "--config", config.path])
        let status = await run.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("SLO PASSED (2 of 2 clauses met)"), "\(run.stdout)")
    }

    @Test("a bad duration gets a one-line error naming the flag and why", arguments: [
        (["run", "--slo", "e2e_p99<-1s"], "--slo", "cannot be negative"),
        (["run", "--slo", "e2e_p99<1x"], "--slo", "unknown unit 'x'"),
        (["run", "--run-time=-5s"], "--run-time", "cannot be negative"),
        (["run", "--request-timeout", "5x"], "--request-timeout", "unknown unit 'x'"),
        (["run", "--run-time", "99999999999999h"], "--run-time", "longest duration"),
        (["run", "--run-time", "1h30"], "--run-time", "'30' has no unit"),
        (["run", "--stages", "1u:-1s"], "--stages", "cannot be negative"),
        (["sweep", "--step-time", "10q"], "--step-time", "unknown unit 'q'"),
    ])
    func badDuration(_ arguments: [String], _ flag: String, _ why: String) async throws {
        let child = try ChildProcess(arguments)
        let status = await child.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        let stderr = child.stderr
        #expect(stderr.hasPrefix("Error:"), "stderr: \(stderr)")
        #expect(stderr.contains(flag), "stderr: \(stderr)")
        #expect(stderr.contains(why), "stderr: \(stderr)")
    }
}
