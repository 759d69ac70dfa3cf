import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeReport
import StampedeTestSupport
import Testing

extension LoadModelSuite {
    @Suite("Stages")
    struct StageTests {
        @Test func parsesUserAndRateLists() throws {
            #expect(try Stage.parseList("1u:30s,5u:1m,10u:60s") == [
                Stage(users: 1, durationSeconds: 30), Stage(users: 5, durationSeconds: 60), Stage(users: 10, durationSeconds: 60),
            ])
            #expect(try Stage.parseList("0.5r:60s, 1r:500ms") == [Stage(rate: 0.5, durationSeconds: 60), Stage(rate: 1, durationSeconds: 0.5)])
            for bad in ["", "5:30s", "5u", "5u:soon", "0u:10s", "-1r:10s", "1u:10s,2r:10s", "1u:0s", "xu:1s"] {
                #expect(throws: ScenarioError.self, "\(bad)") { try Stage.parseList(bad) }
            }
        }

        @Test func thePlanPutsStagesOnTheRunClock() {
            let plan = StagePlan(stages: [Stage(users: 1, durationSeconds: 1), Stage(users: 4, durationSeconds: 2), Stage(users: 2, durationSeconds: 1)])
            #expect(plan.endNs == 4_000_000_000)
            #expect([0, 999_999_999, 1_000_000_000, 2_999_999_999, 3_000_000_000, 9_000_000_000].map { plan.stageIndex(atNs: $0) } == [0, 0, 1, 1, 2, 2])
            #expect(plan.users(atNs: 1_500_000_000, fallback: 9) == 4)
            #expect(plan.seconds(ofStage: 1, runNs: 2_500_000_000) == 1.5)
            #expect(plan.seconds(ofStage: 2, runNs: 2_500_000_000) == 0)
            #expect(StagePlan(stages: []).stageIndex(atNs: 5) == 0)
            let rates = StagePlan(stages: [Stage(rate: 2, durationSeconds: 1), Stage(rate: 8, durationSeconds: 1)])
            #expect(rates.rateSegments(fallback: 1) == [RateSegment(startNs: 0, rate: 2), RateSegment(startNs: 1_000_000_000, rate: 8)])
        }

        @Test("user stages are reached on a 2-worker in-process cluster, each with its own stats block")
        func userStagesOnTwoWorkers() async throws {
            var s = scenario(users: 1, spawnRate: 1000, runTime: 10)
            s.stages = [Stage(users: 2, durationSeconds: 1.5), Stage(users: 6, durationSeconds: 1.5), Stage(users: 3, durationSeconds: 1.5)]
            let fakes = [FakeExecutor(delay: .milliseconds(50)), FakeExecutor(delay: .milliseconds(50))]
            let coordinator = RunCoordinator(scenario: s, options: tenthSecondIntervals())
            for (i, fake) in fakes.enumerated() {
                await coordinator.add(LocalWorkerLink(workerId: "w\(i)", executor: fake, intervalNs: 100_000_000))
            }
            let result = await coordinator.run()
            // The stages, not the 10 s run time, end the run.
            #expect(result.durationSeconds >= 4.5 && result.durationSeconds < 5.2)
            #expect(result.stages.map(\.index) == [0, 1, 2])
            #expect(result.stages.map(\.users) == [2, 6, 3])
            for (stage, users) in zip(result.stages, [2, 6, 3]) {
                // Closed loop at 50 ms per request: users / 0.05 s requests per second.
                let expected = Double(users) / 0.05
                #expect(abs(stage.summary.requestsPerSecond - expected) / expected < 0.2, "stage \(stage.index): \(stage.summary.requestsPerSecond) req/s")
                // Users in the time series, inside each stage (away from its edges), equal the stage's users.
                let start = stage.startSeconds ?? 0
                let inside = result.timeSeries.filter { $0.startSeconds >= start + 0.3 && $0.startSeconds < start + 1.2 }
                #expect(!inside.isEmpty)
                // A point closes 300 ms after its interval: on a loaded machine a late delta can miss it, so most, not all.
                #expect(inside.filter { $0.users == users }.count * 3 >= inside.count * 2, "stage \(stage.index): users \(inside.map(\.users))")
                #expect(inside.allSatisfy { $0.users <= users }, "stage \(stage.index): users \(inside.map(\.users))")
            }
            #expect(fakes.map { $0.calls.withLock { $0.peak } } == [3, 3])
            #expect(result.stages.map(\.summary.requestsFinished).reduce(0, +) == result.overall.requestsFinished)
            let report = ConsoleReport.render(result)
            #expect(report.contains("Stages") && report.contains("6 users") && report.contains("Stage 2: 3 users for 1.5s"))
        }

        @Test("rate stages are reached on a 2-worker in-process cluster, the arrivals split exactly")
        func rateStagesOnTwoWorkers() async throws {
            var s = openScenario(rate: 1, runTime: 10, collect: true)
            s.stages = [Stage(rate: 20, durationSeconds: 1.5), Stage(rate: 60, durationSeconds: 1.5)]
            let sink = RecordSink()
            let coordinator = RunCoordinator(scenario: s, options: tenthSecondIntervals(), onEvent: RunEvent.records(to: { sink.add($0) }))
            for i in 0..<2 {
                await coordinator.add(LocalWorkerLink(workerId: "w\(i)", executor: FakeExecutor(delay: .milliseconds(10)), intervalNs: 100_000_000))
            }
            let result = await coordinator.run()
            #expect(result.stages.map(\.rate) == [20, 60])
            #expect(result.stages.map(\.summary.requestsFinished) == [30, 90])
            for (stage, rate) in zip(result.stages, [20.0, 60]) {
                #expect(abs(stage.summary.requestsPerSecond - rate) / rate < 0.05, "stage \(stage.index): \(stage.summary.requestsPerSecond) req/s")
            }
            let open = try #require(result.openLoop)
            #expect(abs(open.requestedRate - 40) < 1)
            let records = sink.all
            // Each stage's requests are tagged by scheduled time; the workers alternate by arrival number.
            #expect(records.allSatisfy { $0.stage == ($0.scheduledNs < 1_500_000_000 ? 0 : 1) })
            #expect(records.allSatisfy { $0.worker == "w\($0.user % 2)" })
            #expect(Set(records.map(\.user)) == Set(0..<120))
            #expect(ConsoleReport.render(result).contains("Open loop (constant arrivals)"))

            // Every output has a block per stage: JSON (`stages`) and an LLMPerf file pair per stage.
            let json = try #require(try JSONSerialization.jsonObject(with: JSONReport.encode(result)) as? [String: Any])
            #expect((json["stages"] as? [[String: Any]])?.count == 2)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-stages-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let paths = try LLMPerfExport.write(result, records: records, to: dir.path)
            #expect(paths.map { ($0 as NSString).lastPathComponent } == [
                "stampede-mock_50_10_summary.json", "stampede-mock_50_10_individual_responses.json",
                "stampede-mock_50_10_stage0_summary.json", "stampede-mock_50_10_stage0_individual_responses.json",
                "stampede-mock_50_10_stage1_summary.json", "stampede-mock_50_10_stage1_individual_responses.json",
            ])
            for (index, expected) in [(0, 30), (1, 90)] {
                let path = dir.appendingPathComponent("stampede-mock_50_10_stage\(index)_summary.json")
                let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
                #expect(summary["results_num_completed_requests"] as? Int == expected, "stage \(index)")
                #expect(summary["stampede_stage"] as? Int == index)
                let stageE2E = try #require(summary["results_end_to_end_latency_s_quantiles_p50"] as? Double)
                #expect(abs(stageE2E - result.stages[index].summary[.e2e].p50) < 1e-9, "stage \(index): the rebuilt histogram differs")
            }
        }

        func tenthSecondIntervals() -> CoordinatorOptions {
            var options = CoordinatorOptions()
            options.intervalNs = 100_000_000
            return options
        }
    }
}
