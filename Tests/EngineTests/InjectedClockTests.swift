import Clocks
@testable import StampedeEngine
import StampedeClient
import StampedeCore
import StampedeMetrics
import Synchronization
import StampedeTestSupport
import Testing

/// Answers each request `latencyNs` of test-clock time after it was scheduled, sleeping on that clock.
struct ClockedExecutor: RequestExecutor {
    let clock: any EngineClock
    let latencyNs: Int64

    func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord {
        let epochNs = clock.ns(of: epoch)
        let end = scheduledNs + latencyNs
        try? await clock.sleep(untilNs: epochNs + end)
        return RequestRecord(scheduledNs: scheduledNs, sendNs: scheduledNs, firstTokenNs: end, tokenChunkNs: [end], endNs: end,
                             outputTokens: 1, status: 200)
    }
}

/// The drivers read and sleep on the clock they are given: a run of 10 s on a test clock takes as
/// long as advancing that clock does, not 10 s.
@Suite("Engine on an injected clock")
struct InjectedClockTests {
    @Test("a 10 s run on a test clock ends at its run time, far sooner in real time, with every interval in the series")
    func runOnATestClock() async throws {
        let testClock = TestClock()
        let clock = ClockAdapter(testClock)
        var options = CoordinatorOptions()
        options.clock = clock
        let coordinator = RunCoordinator(scenario: scenario(users: 2, spawnRate: 1000, runTime: 10), options: options)
        await coordinator.add(LocalWorkerLink(executor: ClockedExecutor(clock: clock, latencyNs: 250_000_000), clock: clock))
        let done = Mutex<RunResult?>(nil)
        let started = ContinuousClock.now
        let run = Task {
            let result = await coordinator.run()
            done.withLock { $0 = result }
        }
        var steps = 0
        while done.withLock({ $0 == nil }), steps < 2_000 {
            await testClock.advance(by: .milliseconds(10))
            steps += 1
        }
        await run.value
        let real = started.duration(to: .now)
        let result = try #require(done.withLock { $0 })
        #expect(result.stopReason == .runTime)
        #expect(result.durationSeconds >= 10 && result.durationSeconds < 10.1, "the run lasts 10 s of the test clock")
        #expect(real < .seconds(8), "a 10 s run took \(real) of real time: some driver sleeps on the real clock")
        // Two users, a request each 250 ms: at most 80 finish, and the late wake-ups of a loaded machine cost a few.
        #expect((60...80).contains(result.overall.requestsFinished))
        // Every second has its point; the stop at 10 s may open interval 10, empty.
        #expect(Array(result.timeSeries.map(\.interval).prefix(10)) == Array(0..<10))
        #expect(result.timeSeries.count <= 11)
        #expect(result.timeSeries.allSatisfy { $0.finished <= 8 })
        #expect(result.timeSeries.reduce(0) { $0 + $1.finished } == result.overall.requestsFinished)
    }
}
