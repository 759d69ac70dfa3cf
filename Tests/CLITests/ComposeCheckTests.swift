import Foundation
import Testing

/// scripts/compose-check.sh's command line. The check itself (a real Docker engine, about 20 s to
/// 2 min) runs in CI (.ci/run), not in the test suite; bad flags must fail before anything is
/// installed or started.
@Suite("compose-check.sh")
struct ComposeCheckTests {
    @Test("bad flags get usage and exit 2, before anything is installed or started", .timeLimit(.minutes(1)))
    func badFlagsExit2() async throws {
        for args in [["--bogus"], ["--run-time", "1m"], ["--run-time", "0s"], ["--users", "0"], ["--users", "x"],
                     ["--bin"], ["--bin", "/nonexistent/stampede"]] {
            let run = try await DeployScript.run("scripts/compose-check.sh", args, timeout: .seconds(20))
            #expect(run.status == 2, "\(args): \(run.output)")
            #expect(run.stderr.contains("Usage: scripts/compose-check.sh"), "\(args): \(run.stderr)")
            #expect(!run.output.contains("dockerd"), "\(args): \(run.output)")
        }
        let help = try await DeployScript.run("scripts/compose-check.sh", ["--help"], timeout: .seconds(20))
        #expect(help.status == 0 && help.stdout.contains("--run-time DUR"), "\(help.output)")
    }
}
