import Foundation
import StampedeClient
import StampedeCore
import StampedeEngine
import StampedeMock
import StampedeReport
import StampedeTestSupport
import Synchronization
import Testing

extension LoadModelSuite {
    @Suite("Sweep")
    struct SweepTests {
        func settings(_ axis: SweepAxis, step: Double, warmup: Double) -> SweepSettings {
            var settings = SweepSettings()
            settings.axis = axis
            settings.stepSeconds = step
            settings.warmupSeconds = warmup
            return settings
        }

        func runner(_ executor: any RequestExecutor) -> @Sendable (Scenario) async -> RunResult {
            { scenario in
                // These sweeps test where the knee falls; a loaded test machine must not read as a saturated generator.
                var scenario = scenario
                scenario.saturation = SaturationLimits(cpuShare: 1024, lagMs: 3_600_000)
                let coordinator = RunCoordinator(scenario: scenario)
                await coordinator.add(LocalWorkerLink(executor: executor, intervalNs: 100_000_000))
                return await coordinator.run()
            }
        }

        @Test("users: ×2 to the first bad step, then bisection; the knee is at the capacity")
        func usersSweepFindsTheKnee() async throws {
            let executor = FakeExecutor(delay: .milliseconds(50), capacity: 5)
            let result = await Sweep.run(base: scenario(users: 1, runTime: 1), settings: settings(.users, step: 0.5, warmup: 0.2),
                                         runStep: runner(executor))
            // 1, 2, 4 are good (50 ms); 8 is 1.6 × the 1-user latency; then 6 (1.2 ×) and 7 (1.4 ×) are good.
            #expect(result.steps.map { $0.users! } == [1, 2, 4, 8, 6, 7], "\(result.steps.map { ($0.users!, $0.e2eP50 ?? 0, $0.verdict) })")
            #expect(result.steps.map(\.phase) == [.baseline, .ramp, .ramp, .ramp, .refine, .refine])
            #expect(result.stoppedBy == "refined")
            let answers = result.answers
            #expect(answers.bestLatency?.users == 1)
            #expect(try #require(answers.bestLatency?.e2eP50) < 0.06)
            #expect(answers.knee?.users == 8)
            #expect(answers.knee?.reason == "knee")
            // The largest RPS before the knee: 5 slots / 50 ms = 100 req/s, reached from 5 users on.
            let top = try #require(answers.maxThroughput)
            #expect(top.users == 6 || top.users == 7)
            #expect(top.requestsPerSecond > 80 && top.requestsPerSecond < 110)
            #expect(answers.maxGoodput == nil)
            // Warm-up requests are not counted: 2 users for 0.5 s at 50 ms are about 20 requests, not 28.
            #expect(result.steps[1].requests >= 16 && result.steps[1].requests <= 22)
            let text = SweepReport.render(result)
            #expect(text.contains("largest RPS before the knee") && text.contains("knee:                         8 users (knee)"))
            let json = try JSONSerialization.jsonObject(with: SweepReport.encode(result)) as? [String: Any]
            let jsonAnswers = try #require(json?["answers"] as? [String: Any])
            #expect(jsonAnswers["max_throughput"] != nil && jsonAnswers["best_latency"] != nil && (json?["steps"] as? [Any])?.count == 6)
        }

        @Test("with prices, the answers carry the cost at the largest RPS before the knee, by the hourly and per-token formulas")
        func costAtTheSustainableRate() async throws {
            let executor = FakeExecutor(delay: .milliseconds(50), capacity: 5, inputTokens: 10)
            var base = scenario(users: 1, runTime: 1)
            base.pricing = Pricing(pricePerHour: 4, replicas: 2, inputPerMTok: 0.7, outputPerMTok: 2.8)
            let result = await Sweep.run(base: base, settings: settings(.users, step: 0.5, warmup: 0.2), runStep: runner(executor))
            let top = try #require(result.answers.maxThroughput)
            let cost = try #require(result.answers.costAtMaxThroughput)
            let atRate = try #require(cost.atSustainableRPS)
            // Hand computation: $4/h x 2 replicas at the step's req/s.
            #expect(atRate.requestsPerSecond == top.requestsPerSecond)
            #expect(abs(atRate.perRequest - 8 / (3600 * top.requestsPerSecond)) < 1e-12)
            #expect(abs(atRate.perThousandRequests - atRate.perRequest * 1000) < 1e-12)
            // Per-token prices: the executor's requests have 10 input and 1 output tokens.
            let perToken = try #require(cost.perToken)
            let expected = 10 * 0.7 / 1e6 + 1 * 2.8 / 1e6
            #expect(abs(perToken.costPerRequest.p50 - expected) / expected < 0.001)
            let text = SweepReport.render(result)
            #expect(text.contains("cost at \(String(format: "%.2f", top.requestsPerSecond)) req/s"), "\(text)")
            #expect(text.contains("per-token cost at that step"), "\(text)")
        }

        @Test("rate: open-loop steps from twice the 1-user throughput; the knee is past the capacity")
        func rateSweepFindsTheKnee() async throws {
            let executor = FakeExecutor(delay: .milliseconds(50), capacity: 5)
            var base = scenario(users: 1, runTime: 1)
            base.openLoop = OpenLoop(rate: 1, arrival: .constant)
            let result = await Sweep.run(base: base, settings: settings(.rate, step: 0.6, warmup: 0.2), runStep: runner(executor))
            let rates = result.steps.dropFirst().map { $0.rate! }
            #expect(result.steps.first?.users == 1 && result.steps.first?.rate == nil)
            // 1 user: about 20 req/s; the ramp is about 40, 80, 160 req/s; capacity is 100 req/s.
            #expect(rates.count >= 3, "\(rates)")
            #expect(abs(rates[0] - 2 * result.steps[0].requestsPerSecond) < 1e-9)
            #expect(abs(rates[1] - 2 * rates[0]) < 1e-9)
            let knee = try #require(result.answers.knee?.rate)
            #expect(knee > 80 && knee <= 170, "\(result.steps.map { ($0.rate ?? 0, $0.e2eP50 ?? 0, $0.verdict) })")
            let top = try #require(result.answers.maxThroughput)
            #expect(top.requestsPerSecond > 70 && top.requestsPerSecond < 115)
        }

        @Test("on the mock with --max-batch 8 the knee falls at about 8 users, within one step")
        func mockSweepKneeAtMaxBatch() async throws {
            let profile = EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 10, maxBatch: 8, batchSlowdown: 0.01)
            let mock = try await MockServer.start(config: MockConfig(timing: .engine(profile)))
            let client = StreamingClient(config: ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m"))
            var base = scenario(users: 1, runTime: 1)
            base.target = mock.baseURL
            let start = ContinuousClock.now
            let result = await Sweep.run(base: base, settings: settings(.users, step: 2, warmup: 0.5), runStep: runner(client))
            let elapsed = start.duration(to: .now)
            try? await client.shutdown()
            await mock.stop()
            let trace = result.steps.map { "\($0.users!) users: \(Int(($0.e2eP50 ?? 0) * 1000)) ms \($0.verdict.rawValue)" }
            let top = try #require(result.answers.maxThroughput?.users, "\(trace)")
            let knee = try #require(result.answers.knee?.users, "\(trace)")
            // Past 8 sequences requests queue: the last good step is 8 or between 8 and the next ×2 step.
            #expect(top >= 8 && top < 16, "\(trace)")
            #expect(knee > 8 && knee <= 16, "\(trace)")
            #expect(elapsed < .seconds(40))
        }
    }
}
