import StampedeClient
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeTestSupport
import Synchronization
import Testing

func scenario(users: Int, spawnRate: Double = 100, runTime: Double? = nil, maxRequests: Int? = nil, collect: Bool = false) -> Scenario {
    Scenario(target: "http://127.0.0.1:9", users: users, spawnRate: spawnRate, runTimeSeconds: runTime, maxRequests: maxRequests,
             input: LengthSpec(mean: 50, stddev: 0), output: LengthSpec(mean: 10, stddev: 0), collectRecords: collect)
}

@Suite("Coordinator with in-process workers")
struct LoadGeneratorTests {
    @Test func maxRequestsIsExactAndStopsTheRun() async throws {
        let fake = FakeExecutor(delay: .milliseconds(5))
        let coordinator = RunCoordinator(scenario: scenario(users: 5, maxRequests: 100))
        await coordinator.add(LocalWorkerLink(executor: fake, intervalNs: 100_000_000))
        let result = await coordinator.run()
        #expect(result.stopReason == .maxRequests)
        #expect(result.overall.requestsFinished == 100)
        #expect(fake.calls.withLock { $0.total } == 100)
        #expect(fake.calls.withLock { $0.peak } == 5)
    }

    @Test func runTimeStopsTheRunAndCancelledRequestsAreNotCounted() async throws {
        let fake = FakeExecutor(delay: .milliseconds(300))
        let coordinator = RunCoordinator(scenario: scenario(users: 3, runTime: 1.0))
        await coordinator.add(LocalWorkerLink(executor: fake, intervalNs: 100_000_000))
        let start = ContinuousClock.now
        let result = await coordinator.run()
        let elapsed = start.duration(to: .now)
        #expect(result.stopReason == .runTime)
        #expect(elapsed < .seconds(2))
        // Each user had exactly one request in flight at the stop: cancelled, and not counted.
        let calls = fake.calls.withLock { $0.total }
        #expect(result.overall.requestsFinished >= 3)
        #expect(calls - result.overall.requestsFinished == 3)
        #expect(result.overall.requestsFailed == 0)
    }

    @Test func spawnRateRampsUsers() async throws {
        let fake = FakeExecutor(delay: .milliseconds(20))
        let sink = RecordSink()
        let coordinator = RunCoordinator(scenario: scenario(users: 4, spawnRate: 4, runTime: 1, collect: true), onEvent: RunEvent.records(to: { sink.add($0) }))
        await coordinator.add(LocalWorkerLink(executor: fake, intervalNs: 100_000_000))
        _ = await coordinator.run()
        // One user every 250 ms: each user's first request comes at least 250 ms after the previous user's.
        // (A busy machine can only delay a start, so the bound holds however loaded the test run is.)
        var firstSend: [Int: Int64] = [:]
        for record in sink.all { firstSend[record.user] = min(firstSend[record.user] ?? .max, record.scheduledNs) }
        let starts = firstSend.values.sorted()
        #expect(starts.count >= 2 && starts.count <= 4, "users started: \(starts.count)")
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(later - earlier >= 245_000_000, "user starts (ns): \(starts)")
        }
    }

    @Test func splitAcrossThreeWorkersSumsToTheTotal() async throws {
        let fakes = (0..<3).map { _ in FakeExecutor(delay: .milliseconds(50)) }
        let coordinator = RunCoordinator(scenario: scenario(users: 10, spawnRate: 10_000, maxRequests: 90, collect: true))
        for (i, fake) in fakes.enumerated() {
            await coordinator.add(LocalWorkerLink(workerId: "w\(i)", executor: fake, intervalNs: 100_000_000))
        }
        let result = await coordinator.run()
        #expect(result.overall.requestsFinished == 90)
        #expect(fakes.map { $0.calls.withLock { $0.peak } } == [4, 3, 3])
        #expect(result.workers.map(\.finished).reduce(0, +) == 90)
        #expect(result.workers.map(\.users) == [4, 3, 3])
    }
}
