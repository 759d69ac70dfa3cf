import Foundation
import StampedeTestSupport
import Testing

/// A run stops on time whatever the target does: here a listener whose backlog is full, so every
/// connection attempt hangs until its connect timeout (10 s). Before, the run waited for those
/// attempts (2 s run: 12 s), and 10^6 users to spawn kept the actor from ever seeing its stop.
@Suite("Stop latency against a target that never accepts", .serialized)
struct StopLatencyTests {
    @Test(arguments: [["--users", "2000", "--spawn-rate", "2000"], ["--users", "1000000", "--spawn-rate", "1000000"]])
    func runStopsOnTime(_ load: [String]) async throws {
        // Backlog 0 and never an accept: connection attempts hang.
        let hole = try RawTCPListener(backlog: 0)
        let started = ContinuousClock.now
        let run = try ChildProcess(["run", "--target", "http://127.0.0.1:\(hole.port)", "--run-time", "2s", "--quiet"] + load)
        defer { run.kill() }
        let status = await run.waitForExit(timeout: .seconds(30))
        let took = started.duration(to: .now)
        #expect(status != nil, "still running after 30 s")
        // 2 s of run, cancelling what is in flight, the report, at most 1 s for the client to let go.
        #expect(took < .seconds(8), "a 2 s run took \(took)")
        #expect(run.stdout.contains("stopped by run_time"), "\(run.stdout.suffix(500))")
    }
}
