import Foundation
import StampedeTestSupport
import Testing

@Suite("Bad flags get a one-line error naming the flag")
struct BadInputTests {
    static let cases: [([String], String)] = [
        (["run", "--users", "-1"], "--users"),
        (["run", "--users", "0"], "--users"),
        (["run", "--spawn-rate", "0"], "--spawn-rate"),
        (["run", "--run-time", "ten"], "--run-time"),
        (["run", "--request-timeout", "5x"], "--request-timeout"),
        (["run", "--target", "localhost:8000"], "--target"),
        (["run", "--target", "http://host:99999"], "--target"),
        (["run", "--extra-body", "{temperature: 0"], "--extra-body"),
        (["run", "--extra-body", "[1,2]"], "--extra-body"),
        (["run", "--max-requests", "0"], "--max-requests"),
        (["run", "--api", "grpc"], "--api"),
        (["run", "--bogus-flag"], "--bogus-flag"),
        (["run", "--error-rate-500", "2"], "--error-rate-500"),
        (["run", "--max-error-rate", "1.5"], "--max-error-rate"),
        (["mock", "--port", "70000"], "--port"),
        (["coordinator", "--users", "2"], "--target"),
        (["worker", "--coordinator", "nohost"], "--coordinator"),
        // Upper bounds: accepted before, a prompt of 100M tokens took 1.2 GB per user.
        (["run", "--mean-input-tokens", "100000000"], "--mean-input-tokens"),
        (["run", "--stddev-input-tokens", "300000"], "--stddev-input-tokens"),
        (["run", "--mean-output-tokens", "9223372036854775807"], "--mean-output-tokens"),
        (["run", "--stddev-output-tokens", "9223372036854775807"], "--stddev-output-tokens"),
        (["run", "--users", "2000000"], "--users"),
        (["run", "--spawn-rate", "1e300"], "--spawn-rate"),
        (["run", "--run-time", "100000h"], "--run-time"),
        (["run", "--request-timeout", "100000h"], "--request-timeout"),
        (["run", "--max-requests", "9223372036854775807"], "--max-requests"),
        (["run", "--rate", "1", "--max-concurrency", "9223372036854775807"], "--max-concurrency"),
        (["run", "--stages", "1u:600h,1u:600h"], "--stages"),
        (["coordinator", "--target", "http://127.0.0.1:9", "--mean-input-tokens", "100000000"], "--mean-input-tokens"),
        (["run", "--min-output-ratio", "0"], "--min-output-ratio"),
        (["run", "--min-output-ratio", "1.5"], "--min-output-ratio"),
        (["run", "--min-output-ratio", "-0.5"], "--min-output-ratio"),
        (["run", "--min-output-ratio", "nan"], "--min-output-ratio"),
        (["sweep", "--max-users", "9223372036854775807"], "--max-users"),
        (["sweep", "--max-rate", "1e300"], "--max-rate"),
    ]

    @Test(arguments: cases)
    func badFlag(_ arguments: [String], _ flag: String) async throws {
        let child = try ChildProcess(arguments)
        let status = await child.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        let stderr = child.stderr
        #expect(stderr.contains(flag), "stderr: \(stderr)")
        #expect(stderr.hasPrefix("Error:"), "stderr: \(stderr)")
        #expect(!stderr.contains("Fatal error") && !stderr.contains("Stack dump"))
        #expect(child.stdout.isEmpty || !child.stdout.contains("Stampede report"))
    }

    @Test func helpExplainsUnits() async throws {
        let child = try ChildProcess(["run", "--help"])
        _ = await child.waitForExit(timeout: .seconds(20))
        #expect(child.stdout.contains("--spawn-rate"))
        #expect(child.stdout.contains("users/s"))
        #expect(child.stdout.contains("--mean-input-tokens"))
    }

    @Test("a port already in use is a one-line error, for the mock and the coordinator", .timeLimit(.minutes(1)))
    func portInUse() async throws {
        let (mock, url) = try await startMock([])
        defer { mock.kill() }
        let port = try #require(url.split(separator: ":").last.map(String.init))
        for arguments in [["mock", "--port", port], ["coordinator", "--target", url, "--bind", "127.0.0.1:\(port)"]] {
            let child = try ChildProcess(arguments)
            let status = await child.waitForExit(timeout: .seconds(20))
            #expect(status != nil && status != 0, "\(arguments)")
            let lines = child.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(lines.count == 1 && lines[0].hasSuffix(":\(port): Address already in use"), "\(arguments): \(child.stderr)")
        }
    }
}
