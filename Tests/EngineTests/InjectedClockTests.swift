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

/// A swift-clocks test clock, the engine's adapter for it, and coordinator options that run on it.
/// `configure` sets the test's other options.
func onATestClock(_ configure: (inout CoordinatorOptions) -> Void = { _ in })
    -> (testClock: TestClock<Duration>, clock: ClockAdapter<TestClock<Duration>>, options: CoordinatorOptions) {
    let testClock = TestClock()
    let clock = ClockAdapter(testClock)
    var options = CoordinatorOptions()
    options.clock = clock
    configure(&options)
    return (testClock, clock, options)
}

/// Runs `coordinator` to its end while advancing `testClock` in 10 ms steps (at most `maxSteps`);
/// `atStep` runs after each step (a test's mid-run action). Nil when the run did not end.
func runToTheEnd(_ coordinator: RunCoordinator, _ testClock: TestClock<Duration>, maxSteps: Int = 2_000,
                     atStep: (Int) async throws -> Void = { _ in }) async rethrows -> RunResult? {
    let done = Mutex<RunResult?>(nil)
    let run = Task { let result = await coordinator.run(); done.withLock { $0 = result } }
    var steps = 0
    while done.withLock({ $0 == nil }), steps < maxSteps {
        await testClock.advance(by: .milliseconds(10))
        steps += 1
        try await atStep(steps)
    }
    await run.value
    return done.withLock { $0 }
}

/// The drivers read and sleep on the clock they are given: a run of 10 s on a test clock takes as
/// long as advancing that clock does, not 10 s.
@Suite("Engine on an injected clock")
struct InjectedClockTests {
    @Test("a 10 s run on a test clock ends at its run time, far sooner in real time, with every interval in the series")
    func runOnATestClock() async throws {
        let (testClock, clock, options) = onATestClock()
        let coordinator = RunCoordinator(scenario: scenario(users: 2, spawnRate: 1000, runTime: 10), options: options)
        await coordinator.add(LocalWorkerLink(executor: ClockedExecutor(clock: clock, latencyNs: 250_000_000), clock: clock))
        let started = ContinuousClock.now
        let finished = try await runToTheEnd(coordinator, testClock)
        let real = started.duration(to: .now)
        let result = try #require(finished)
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

    @Test("an open loop's rate changed during the run: the same arrivals before the change, the new rate after, none sent twice")
    func rateChangeOnATestClock() async throws {
        let (testClock, clock, options) = onATestClock { $0.arrivalHandover = .milliseconds(500) }
        let sink = RecordSink()
        var open = scenario(users: 1, runTime: 3, collect: true)
        open.openLoop = OpenLoop(rate: 10, arrival: .constant)
        let coordinator = RunCoordinator(scenario: open, options: options, onEvent: RunEvent.onRecords { sink.add($0) })
        for id in ["w0", "w1"] {
            await coordinator.add(LocalWorkerLink(workerId: id, executor: ClockedExecutor(clock: clock, latencyNs: 50_000_000), clock: clock))
        }
        let finished = try await runToTheEnd(coordinator, testClock, maxSteps: 1_000) { step in
            if step == 100 { try await coordinator.changeLoad(rate: 40) }
        }
        let result = try #require(finished)
        let records = sink.all
        // The change was asked at about 1 s of run clock (the test clock may have moved a step before the run
        // read its epoch), so it takes effect at its stage's start, 1.5 s give or take a step.
        #expect(result.stages.map(\.rate) == [10, 40])
        let changeNs = Int64(((result.stages.last?.startSeconds ?? 0) * 1e9).rounded())
        #expect((1_480_000_000...1_510_000_000).contains(changeNs), "the new rate starts at \(changeNs) ns")
        // Constant arrivals: 10/s (one each 100 ms) until the change, then 40/s until 3 s (less those still
        // in flight at the stop).
        let before = records.filter { $0.scheduledNs < changeNs }
        let after = records.filter { $0.scheduledNs >= changeNs }
        #expect(before.count == Int((Double(changeNs) / 1e8).rounded(.up)))
        #expect((Int(Double(3_000_000_000 - changeNs) / 25e6) - 4...Int(Double(3_000_000_000 - changeNs) / 25e6) + 1).contains(after.count),
                "\(after.count) after the change at \(changeNs) ns")
        #expect(before.allSatisfy { $0.stage == 0 } && after.allSatisfy { $0.stage == 1 })
        #expect(Set(records.map(\.user)).count == records.count, "an arrival sent twice")
        #expect(Set(records.compactMap(\.worker)) == ["w0", "w1"])
        let gaps = zip(after.map(\.scheduledNs).sorted().dropFirst(), after.map(\.scheduledNs).sorted()).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 == 25_000_000 }, "40/s is one arrival each 25 ms: \(Set(gaps))")
    }
}
