import Clocks
@testable import StampedeEngine
import StampedeCore
import StampedeMetrics
import StampedeTestSupport
import Testing

/// Achieved concurrency counts the requests still in flight when the load stops, up to the stop.
/// On swift-clocks' test clock: no real time is measured.
@Suite("Achieved concurrency with requests in flight at the stop")
struct AchievedConcurrencyTests {
    @Test("4 users whose requests outlast a 3 s run: achieved concurrency ≈ 4, not 0; none counted as finished")
    func requestsOutlastTheRun() async throws {
        let (testClock, clock, options) = onATestClock()
        let coordinator = RunCoordinator(scenario: scenario(users: 4, spawnRate: 1000, runTime: 3), options: options)
        // Each request would take 60 s: every one is still in flight when the run stops at 3 s.
        await coordinator.add(LocalWorkerLink(executor: ClockedExecutor(clock: clock, latencyNs: 60_000_000_000), clock: clock))
        let result = try #require(try await runToTheEnd(coordinator, testClock))
        #expect(result.stopReason == .runTime)
        #expect(result.overall.requestsFinished == 0)
        // Σ (stop − send) = 4 × ~3 s over a 3 s window; the users start within a few ms of the test clock.
        #expect(result.overall.achievedConcurrency > 3.8 && result.overall.achievedConcurrency <= 4.05,
                "achieved concurrency \(result.overall.achievedConcurrency)")
    }
}
