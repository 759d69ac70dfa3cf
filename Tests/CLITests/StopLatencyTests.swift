import Foundation
import StampedeTestSupport
import Testing

/// A run stops on time whatever the target does: here a listener whose backlog is full, so every
/// connection attempt hangs until its connect timeout (10 s). Before, the run waited for those
/// attempts (2 s run: 12 s), and 10^6 users to spawn kept the actor from ever seeing its stop.
@Suite("Stop latency against a target that never accepts", .serialized)
struct StopLatencyTests {
    /// The bound is 2 s of run, 1 s for the report and the client, plus cancelling what is in flight:
    /// with a million users that is thousands of pending connects in AsyncHTTPClient's pools, whose
    /// cancellation grows with their number (6 s in all measured alone, 9.5 s after other suites).
    @Test(arguments: [(["--users", "2000", "--spawn-rate", "2000"], 8), (["--users", "1000000", "--spawn-rate", "1000000"], 12)])
    func runStopsOnTime(_ load: [String], _ boundSeconds: Int) async throws {
        // Backlog 0 and never an accept: connection attempts hang.
        let hole = try RawTCPListener(backlog: 0)
        let started = ContinuousClock.now
        let run = try ChildProcess(["run", "--target", "http://127.0.0.1:\(hole.port)", "--run-time", "2s", "--quiet"] + load)
        defer { run.kill() }
        let status = await run.waitForExit(timeout: .seconds(30))
        let took = started.duration(to: .now)
        #expect(status != nil, "still running after 30 s")
        #expect(took < .seconds(boundSeconds), "a 2 s run took \(took)")
        #expect(run.stdout.contains("stopped by run_time"), "\(run.stdout.suffix(500))")
    }
}
