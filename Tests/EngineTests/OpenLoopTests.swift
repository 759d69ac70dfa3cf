import StampedeClient
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeMock
import StampedeTestSupport
import Synchronization
import Testing

func openScenario(rate: Double, arrival: ArrivalProcess = .constant, runTime: Double, maxConcurrency: Int? = nil, target: String = "http://127.0.0.1:9",
                  output: Int = 10, collect: Bool = false) -> Scenario {
    var s = Scenario(target: target, users: 1, spawnRate: 1, runTimeSeconds: runTime,
                     input: LengthSpec(mean: 50, stddev: 0), output: LengthSpec(mean: output, stddev: 0), collectRecords: collect)
    s.openLoop = OpenLoop(rate: rate, arrival: arrival, maxConcurrency: maxConcurrency)
    return s
}

/// Collects the raw records a coordinator passes on.
final class RecordSink: Sendable {
    let records = Mutex<[RequestRecord]>([])
    func add(_ batch: [RequestRecord]) { records.withLock { $0 += batch } }
    var all: [RequestRecord] { records.withLock { $0 } }
}

@Suite("Open loop: arrival schedule and partition")
struct ArrivalScheduleTests {
    @Test func constantArrivalsAreEvenlySpacedFromZero() {
        var schedule = ArrivalSchedule(seed: 1, process: .constant, segments: [RateSegment(startNs: 0, rate: 20)])
        let times = (0..<5).map { _ in schedule.next().timeNs }
        #expect(times == [0, 50_000_000, 100_000_000, 150_000_000, 200_000_000])
    }

    @Test func poissonAndGammaGapsHaveTheRequestedMeanAndShape() {
        for (process, shape, cv) in [(ArrivalProcess.poisson, 1.0, 1.0), (.gamma, 0.25, 2.0), (.gamma, 4, 0.5)] {
            var schedule = ArrivalSchedule(seed: 7, process: process, burstiness: shape, segments: [RateSegment(startNs: 0, rate: 100)])
            let times = (0..<20_001).map { _ in Double(schedule.next().timeNs) / 1e9 }
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            let mean = gaps.reduce(0, +) / Double(gaps.count)
            let sd = (gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)).squareRoot()
            #expect(abs(mean - 0.01) / 0.01 < 0.04, "\(process) \(shape): mean gap \(mean)")
            #expect(abs(sd / mean - cv) / cv < 0.08, "\(process) \(shape): cv \(sd / mean), expected \(cv)")
        }
    }

    @Test func theScheduleIsAPureFunctionOfSeedAndStages() {
        let segments = [RateSegment(startNs: 0, rate: 10), RateSegment(startNs: 2_000_000_000, rate: 40)]
        var a = ArrivalSchedule(seed: 3, process: .poisson, segments: segments)
        var b = ArrivalSchedule(seed: 3, process: .poisson, segments: segments)
        var c = ArrivalSchedule(seed: 4, process: .poisson, segments: segments)
        let first = (0..<500).map { _ in a.next() }
        #expect(first == (0..<500).map { _ in b.next() })
        #expect(first != (0..<500).map { _ in c.next() })
        // A rate stage: constant 10/s for 2 s then 40/s: 20 arrivals in the first stage, then 25 ms apart.
        var steps = ArrivalSchedule(seed: 0, process: .constant, segments: segments)
        let times = (0..<24).map { _ in steps.next().timeNs }
        #expect(times[19] == 1_900_000_000)
        #expect(times[20] == 2_000_000_000)
        #expect(times[23] == 2_075_000_000)
        // Skipping (a worker joining late) keeps the global numbering.
        var late = ArrivalSchedule(seed: 3, process: .poisson, segments: segments)
        late.skip(toNs: first[300].timeNs)
        #expect(late.next() == first[300])
    }

    @Test func sharesSplitSlotsAndTheCapExactly() {
        let shares = Dispatch.shares(users: 0, spawnRate: 1, requestBudget: nil, workers: 3, rate: 30, maxConcurrency: 10, effectiveAtNs: 5)
        #expect(shares.map(\.arrivalSlot) == [0, 1, 2])
        #expect(shares.allSatisfy { $0.arrivalSlots == 3 && $0.effectiveAtNs == 5 && $0.rate == 30 && $0.openLoopFieldsValid })
        #expect(shares.map { $0.maxInFlight! } == [4, 3, 3])
        #expect(Dispatch.shares(users: 4, spawnRate: 1, requestBudget: nil, workers: 2).allSatisfy { $0.arrivalSlots == nil })
    }
}

/// Suites that time real runs, one at a time: on a 2-core machine they would otherwise starve each other.
@Suite(.serialized) enum LoadModelSuite {}

extension LoadModelSuite {
    @Suite("Open loop through the coordinator")
    struct OpenLoopRunTests {
        @Test("below saturation the achieved rate is within 2% of the requested rate, and the lag is small")
        func achievedRateMatchesBelowSaturation() async throws {
            let mock = try await MockServer.start(config: MockConfig(timing: .fixed(ttft: .milliseconds(20), itl: .milliseconds(2))))
            let client = StreamingClient(config: ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m"))
            let coordinator = RunCoordinator(scenario: openScenario(rate: 20, runTime: 5, target: mock.baseURL))
            await coordinator.add(LocalWorkerLink(executor: client))
            let result = await coordinator.run()
            try? await client.shutdown()
            await mock.stop()
            let open = try #require(result.openLoop)
            #expect(abs(open.requestedRate - 20) < 0.2)
            #expect(abs(open.achievedRate - 20) / 20 < 0.02, "achieved \(open.achievedRate) req/s")
            #expect(result.overall.requestsFailed == 0)
            #expect(open.droppedArrivals == 0)
            #expect(try #require(open.scheduleLagP50Seconds) < 0.02)
            // Latency is measured from the scheduled time: TTFT is at least the mock's 20 ms.
            #expect(result.overall[.ttft].p50 >= 0.020)
        }

        @Test("past saturation latency from the scheduled time keeps growing; a closed loop at the same load does not")
        func latencyGrowsPastSaturationOnlyInOpenLoop() async throws {
            // Capacity: 4 sequences × 1 token / 10 ms with 10 tokens each = 40 req/s. Offer twice that.
            let profile = EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 10, maxBatch: 4, batchSlowdown: 0)
            func run(_ scenario: Scenario) async throws -> RunResult {
                // A fresh server each time: a backlog left in one must not slow the other.
                let mock = try await MockServer.start(config: MockConfig(timing: .engine(profile)))
                var scenario = scenario
                scenario.target = mock.baseURL
                let client = StreamingClient(config: ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m"))
                let coordinator = RunCoordinator(scenario: scenario)
                await coordinator.add(LocalWorkerLink(executor: client))
                let result = await coordinator.run()
                try? await client.shutdown()
                await mock.stop()
                return result
            }
            let openResult = try await run(openScenario(rate: 80, runTime: 4))
            // Closed loop: 8 users keep the engine as busy (twice its batch), but each waits for its previous request.
            let closedResult = try await run(scenario(users: 8, spawnRate: 1000, runTime: 4))

            func e2e(_ result: RunResult) -> [Double] { result.timeSeries.compactMap { $0.latency["e2e_p50"] } }
            let openSeries = e2e(openResult)
            let closedSeries = e2e(closedResult)
            #expect(openSeries.count >= 3 && closedSeries.count >= 3, "open \(openSeries), closed \(closedSeries)")
            guard openSeries.count >= 3, closedSeries.count >= 3 else { return }
            #expect(openSeries.last! > 3 * min(openSeries[0], openSeries[1]), "open loop p50 E2E per second: \(openSeries)")
            #expect(openSeries.last! > openSeries[1], "open loop p50 E2E per second: \(openSeries)")
            #expect(openResult.openLoop!.achievedRate < 60, "the server's capacity caps what is achieved")
            // The closed loop settles: its last second is no worse than 1.5 × its second one.
            #expect(closedSeries.last! < 1.5 * closedSeries[1], "closed loop p50 E2E per second: \(closedSeries)")
        }

        @Test("the concurrency cap drops arrivals and counts them")
        func maxConcurrencyDropsArrivals() async throws {
            let fake = FakeExecutor(delay: .milliseconds(400))
            let coordinator = RunCoordinator(scenario: openScenario(rate: 50, runTime: 1, maxConcurrency: 5))
            await coordinator.add(LocalWorkerLink(executor: fake, intervalNs: 100_000_000))
            let result = await coordinator.run()
            let calls = fake.calls.withLock { $0 }
            #expect(calls.peak == 5)
            #expect(result.overall.droppedArrivals > 20)
            // Every arrival before the stop was either sent or dropped.
            #expect(calls.total + result.overall.droppedArrivals >= 49 && calls.total + result.overall.droppedArrivals <= 51)
        }

        @Test("two workers split the arrivals exactly; a worker that joins mid-run takes over without duplicates or gaps")
        func joinKeepsEveryArrivalOnce() async throws {
            let sink = RecordSink()
            let coordinator = RunCoordinator(scenario: openScenario(rate: 200, runTime: 2.5, collect: true), options: fastOptions(),
                                             onEvent: RunEvent.records(to: { sink.add($0) }))
            await coordinator.add(LocalWorkerLink(workerId: "w0", executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000))
            await coordinator.add(LocalWorkerLink(workerId: "w1", executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000))
            let run = Task { await coordinator.run() }
            try await Task.sleep(for: .seconds(1))
            let before = await coordinator.runClockNs
            await coordinator.add(LocalWorkerLink(workerId: "w2", executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000))
            let after = await coordinator.runClockNs
            let result = await run.value
            let records = sink.all
            let indices = records.map(\.user).sorted()
            #expect(Set(indices).count == indices.count, "an arrival was sent twice")
            // Arrivals are 5 ms apart; all those scheduled before the last 100 ms have finished.
            let settled = indices.filter { $0 < 480 }
            #expect(settled == Array(0..<480), "missing: \(Set(0..<480).subtracting(settled).sorted().prefix(10))")
            #expect(Set(records.map { $0.worker ?? "" }) == ["w0", "w1", "w2"])
            // Before the handover (200 ms after the join) the split is 2 ways, after it 3 ways, by arrival number.
            for record in records where record.scheduledNs < before + 200_000_000 || record.scheduledNs >= after + 200_000_000 {
                let owner = record.scheduledNs < before + 200_000_000 ? record.user % 2 : record.user % 3
                #expect(record.worker == "w\(owner)", "arrival \(record.user) at \(record.scheduledNs) ns went to \(record.worker ?? "?")")
            }
            #expect(records.filter { $0.worker == "w2" }.allSatisfy { $0.scheduledNs >= before + 200_000_000 })
            #expect(result.overall.requestsFinished == records.count)
        }

        @Test("a lost worker's arrivals go to the others from the handover on; none is sent twice")
        func leaveLosesOnlyTheHandoverWindow() async throws {
            let sink = RecordSink()
            let coordinator = RunCoordinator(scenario: openScenario(rate: 200, runTime: 2.5, collect: true), options: fastOptions(),
                                             onEvent: RunEvent.records(to: { sink.add($0) }))
            let leaving = LocalWorkerLink(workerId: "w1", executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000)
            await coordinator.add(LocalWorkerLink(workerId: "w0", executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000))
            await coordinator.add(leaving)
            let run = Task { await coordinator.run() }
            try await Task.sleep(for: .seconds(1))
            let stoppedAt = await coordinator.runClockNs
            try await leaving.stop()
            await coordinator.lose("w1", reason: "test")
            let handover = await coordinator.runClockNs + 200_000_000
            _ = await run.value
            let records = sink.all
            let indices = records.map(\.user)
            #expect(Set(indices).count == indices.count, "an arrival was sent twice")
            let sent = Set(indices)
            // Lost: only w1's arrivals (odd numbers) scheduled between its stop and the handover.
            let missing = (0..<480).filter { !sent.contains($0) }
            for index in missing {
                let at = Int64(index) * 5_000_000
                #expect(index % 2 == 1 && at >= stoppedAt - 10_000_000 && at <= handover + 10_000_000, "arrival \(index) at \(at) ns lost")
            }
            #expect(!missing.isEmpty && missing.count <= 40, "\(missing.count) lost")
        }

        func fastOptions() -> CoordinatorOptions {
            var options = CoordinatorOptions()
            options.intervalNs = 100_000_000
            options.arrivalHandover = .milliseconds(200)
            return options
        }
    }
}
