import Foundation
import Logging
import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeMock
import StampedeTestSupport
import Synchronization
import Testing

/// A sweep whose steps run on workers connected over TCP (`stampede sweep --expect-workers N`).
@Suite("Sweep on a cluster", .serialized)
struct ClusterSweepTests {
    @Test("each step runs on both TCP workers through a WorkerPool; the knee is at the mock's --max-batch, within one step")
    func sweepOnTwoWorkers() async throws {
        // Capacity: 4 sequences at once, 10 ms per token, 10 tokens: about 100 ms per request up to 4 users.
        let profile = EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 10, maxBatch: 4, batchSlowdown: 0.01)
        let mock = try await MockServer.start(config: MockConfig(timing: .engine(profile)))
        let log = LogCapture()
        let pool = WorkerPool()
        var config = ClusterServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        let server = try await CoordinatorServer.start(config: config, roster: pool, logger: log.logger("test.server"))
        let workers = (1...2).map { index in
            let agent = TestWorkers.agent(port: server.port, id: "w\(index)", log: log, makeExecutor: TestWorkers.streamingExecutor)
            return Task { try await withTimeout(.seconds(60), "worker w\(index)") { try await agent.run() } }
        }
        defer { for worker in workers { worker.cancel() } }
        try #require(await waitUntil(timeout: .seconds(10)) { await pool.count == 2 }, "\(log.transcript)")

        let base = {
            var base = Scenario(target: mock.baseURL, users: 1, spawnRate: 100, runTimeSeconds: 1,
                                input: LengthSpec(mean: 20, stddev: 0), output: LengthSpec(mean: 10, stddev: 0), name: "cluster-sweep")
            // This sweep tests where the knee falls; a loaded test machine must not read as a saturated generator.
            base.saturation = SaturationLimits(cpuShare: 1024, lagMs: 3_600_000)
            return base
        }()
        let settings = {
            var settings = SweepSettings()
            settings.stepSeconds = 1.5
            settings.warmupSeconds = 0.5
            settings.maxSteps = 8
            return settings
        }()
        let results = Mutex<[RunResult]>([])
        let sweep = try await withTimeout(.seconds(60), "the sweep") {
            await Sweep.run(base: base, settings: settings) { stepScenario in
                let coordinator = RunCoordinator(scenario: stepScenario, logger: log.logger("test.coordinator"))
                await pool.attach(coordinator)
                let result = await coordinator.run()
                await pool.detach()
                results.withLock { $0.append(result) }
                return result
            }
        }
        await server.shutdown(quitWorkers: true)
        await mock.stop()

        let runs = results.withLock { $0 }
        let trace = sweep.steps.map { "\($0.users ?? 0) users: \(Int(($0.e2eP50 ?? 0) * 1000)) ms \($0.verdict.rawValue)" }
        #expect(runs.count == sweep.steps.count && runs.count >= 4, "\(trace)")
        // Every step ran on the same two connections: both workers joined each run, and with 2 users or
        // more both served requests (the 1-user step has one user to give).
        for (step, run) in zip(sweep.steps, runs) {
            #expect(run.workers.map(\.id).sorted() == ["w1", "w2"], "step \(step.number): \(run.workers.map(\.id))")
            #expect(run.overall.requestsFailed == 0, "step \(step.number)")
            if (step.users ?? 0) >= 2 {
                #expect(run.workers.allSatisfy { $0.finished > 0 }, "step \(step.number) (\(step.users ?? 0) users): \(run.workers.map { ($0.id, $0.finished) })")
            }
            // The merged step equals the sum over the workers.
            #expect(run.workers.reduce(0) { $0 + $1.finished } == run.overall.requestsFinished)
        }
        #expect(log.transcript.components(separatedBy: "connected from").count - 1 == 2, "a worker reconnected between steps")
        let top = try #require(sweep.answers.maxThroughput?.users, "\(trace)")
        let knee = try #require(sweep.answers.knee?.users, "\(trace)")
        #expect(top >= 4 && top < 8, "\(trace)")
        #expect(knee > 4 && knee <= 8, "\(trace)")
    }
}
