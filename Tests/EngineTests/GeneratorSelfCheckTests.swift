import Clocks
import Foundation
@testable import StampedeEngine
import StampedeClient
import StampedeCore
import StampedeMetrics
import Synchronization
import StampedeTestSupport
import Testing

/// A CPU source that reports `share` of its allowance used over time on `clock`, whatever the process does.
final class FakeCPU: CPUSource {
    let share: Double
    let allowanceCores: Double
    let clock: any EngineClock

    init(share: Double, allowanceCores: Double = 2, clock: any EngineClock) {
        self.share = share
        self.allowanceCores = allowanceCores
        self.clock = clock
    }

    func processCPUSeconds() -> Double {
        Double(clock.nowNs) / 1e9 * share * allowanceCores
    }
}

/// The generator checks itself: CPU against its allowance, event-loop lag, schedule lag.
@Suite("Generator self-check")
struct GeneratorSelfCheckTests {
    static func sample(cpu: Double, lagMs: UInt64 = 1) -> GeneratorSample {
        var lag = MetricHistogram()
        for _ in 0..<100 { lag.record(lagMs * 1000) }
        return GeneratorSample(cpuShare: cpu, allowanceCores: 2, loopLag: lag)
    }

    static func delta(_ worker: String, seq: UInt64, sample: GeneratorSample) -> IntervalDelta {
        IntervalDelta(worker: worker, seq: seq, interval: Int(seq), startNs: Int64(seq) * 1_000_000_000, endNs: Int64(seq + 1) * 1_000_000_000,
                      users: 1, inFlight: 0, stages: [:], generator: sample)
    }

    @Test("the policy names each threshold reached, and none below them")
    func policy() {
        let policy = SaturationPolicy()
        #expect(policy.reasons(Self.sample(cpu: 0.5), scheduleLag: MetricHistogram()).isEmpty)
        #expect(policy.reasons(Self.sample(cpu: 0.95), scheduleLag: MetricHistogram()) == ["CPU 95% of 2 cores"])
        #expect(policy.reasons(Self.sample(cpu: 0.2, lagMs: 25), scheduleLag: MetricHistogram()) == ["event-loop lag p99 25.0 ms"])
        var late = MetricHistogram()
        late.record(40_000)
        #expect(policy.reasons(Self.sample(cpu: 0.2), scheduleLag: late) == ["schedule lag p99 40.0 ms"])
        #expect(!policy.workerSaturated(saturated: 1, sampled: 10), "one interval is not enough")
        #expect(policy.workerSaturated(saturated: 2, sampled: 10))
        #expect(!policy.workerSaturated(saturated: 2, sampled: 1000), "2 of 1000 intervals is under 5%")
    }

    @Test("a sample survives the wire, and a peer's impossible figures are refused")
    func wire() throws {
        let delta = Self.delta("w", seq: 3, sample: Self.sample(cpu: 0.5, lagMs: 3))
        let decoded = try JSONDecoder().decode(IntervalDelta.self, from: JSONEncoder().encode(delta))
        #expect(decoded.generator == delta.generator)
        let valid = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.sample(cpu: 0.5))) as? [String: Any])
        #expect(throws: Never.self) { try JSONDecoder().decode(GeneratorSample.self, from: JSONSerialization.data(withJSONObject: valid)) }
        for (field, value) in [("cpu_share", -1.0), ("cpu_share", 1e300), ("allowance_cores", 0.0), ("allowance_cores", 1e9)] {
            var hostile = valid
            hostile[field] = value
            let data = try JSONSerialization.data(withJSONObject: hostile)
            #expect(throws: DecodingError.self, "\(field) = \(value)") { try JSONDecoder().decode(GeneratorSample.self, from: data) }
        }
    }

    @Test("cgroup quotas: v2 cpu.max, v1 quota and period, none, and the smallest on the way up wins")
    func allowance() throws {
        #expect(CPUAllowance.parseV2(cpuMax: "max 100000\n") == nil)
        #expect(CPUAllowance.parseV2(cpuMax: "150000 100000\n") == 1.5)
        #expect(CPUAllowance.parseV2(cpuMax: "garbage") == nil)
        #expect(CPUAllowance.parseV1(quota: "-1\n", period: "100000\n") == nil)
        #expect(CPUAllowance.parseV1(quota: "50000\n", period: "100000\n") == 0.5)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/pod/app", withIntermediateDirectories: true)
        try "max 100000\n".write(toFile: root + "/pod/app/cpu.max", atomically: true, encoding: .utf8)
        try "25000 100000\n".write(toFile: root + "/pod/cpu.max", atomically: true, encoding: .utf8)
        try "0::/pod/app\n".write(toFile: root + "/self", atomically: true, encoding: .utf8)
        #expect(CPUAllowance.detect(cores: 8, root: root, selfCgroup: root + "/self") == 0.25)
        try "0::/\n".write(toFile: root + "/self", atomically: true, encoding: .utf8)
        #expect(CPUAllowance.detect(cores: 8, root: root, selfCgroup: root + "/self") == 8)
        try FileManager.default.createDirectory(atPath: root + "/cpu,cpuacct/job", withIntermediateDirectories: true)
        try "30000".write(toFile: root + "/cpu,cpuacct/job/cpu.cfs_quota_us", atomically: true, encoding: .utf8)
        try "100000".write(toFile: root + "/cpu,cpuacct/job/cpu.cfs_period_us", atomically: true, encoding: .utf8)
        try "4:cpu,cpuacct:/job\n0::/\n".write(toFile: root + "/self", atomically: true, encoding: .utf8)
        #expect(CPUAllowance.detect(cores: 8, root: root, selfCgroup: root + "/self") == 0.3)
    }

    @Test("the coordinator marks saturated intervals and workers, warns once, and leaves a worker with headroom alone")
    func coordinator() {
        var machine = CoordinatorMachine(scenario: scenario(users: 2))
        _ = machine.add("busy", atNs: 0)
        _ = machine.add("idle", atNs: 0)
        _ = machine.start(runId: "r")
        var warnings: [String] = []
        for seq in UInt64(0)..<4 {
            let busy = machine.deliver(Self.delta("busy", seq: seq, sample: Self.sample(cpu: seq == 0 ? 0.3 : 0.97)), atNs: 5_000_000_000).1
            _ = machine.deliver(Self.delta("idle", seq: seq, sample: Self.sample(cpu: 0.2)), atNs: 5_000_000_000)
            for case .generatorSaturated(let worker, _, _) in busy { warnings.append(worker) }
        }
        #expect(warnings == ["busy"], "one warning, once the worker counts as saturated")
        machine.requestStop(.runTime)
        machine.finish()
        let result = machine.result(reason: .runTime, durationNs: 4_000_000_000, runId: "r", startedAt: "")
        let generator = result.generator
        #expect(generator?.saturated == true)
        #expect(generator?.saturatedIntervals == 3)
        #expect(generator?.workers.map(\.id) == ["busy", "idle"])
        #expect(generator?.workers.map(\.saturated) == [true, false])
        #expect(generator?.workers.first?.reasons == ["CPU 97% of 2 cores"])
        #expect(result.timeSeries.map(\.generatorSaturated) == [false, true, true, true])
    }

    @Test("a worker whose CPU source says it is starved is flagged; one with headroom is not")
    func driverUsesItsCPUSource() async throws {
        // A fake CPU and a test clock: every interval is sampled, however loaded the test machine is.
        func run(share: Double, allowance: Double) async throws -> RunResult {
            // Only the CPU is under test: the loop lag on a test clock says nothing.
            let (testClock, clock, options) = onATestClock { $0.saturation.loopLagP99Us = 60_000_000 }
            let coordinator = RunCoordinator(scenario: scenario(users: 2, spawnRate: 1000, runTime: 10), options: options)
            await coordinator.add(LocalWorkerLink(executor: ClockedExecutor(clock: clock, latencyNs: 250_000_000), clock: clock,
                                                  cpu: FakeCPU(share: share, allowanceCores: allowance, clock: clock)))
            return try #require(await runToTheEnd(coordinator, testClock, maxSteps: 3_000))
        }
        let starved = try await run(share: 1.5, allowance: 0.5)
        #expect(starved.generator?.saturated == true)
        #expect(starved.generator?.workers.first?.allowanceCores == 0.5)
        #expect((starved.generator?.saturatedIntervals ?? 0) >= 9, "\(String(describing: starved.generator))")
        #expect(starved.timeSeries.prefix(10).allSatisfy { $0.generatorSaturated == true })
        let easy = try await run(share: 0.1, allowance: 2)
        #expect(easy.generator?.saturated == false)
        #expect(easy.generator?.saturatedIntervals == 0)
        #expect((easy.generator?.workers.first?.cpuShareMax ?? 1) < 0.2)
    }

    @Test("a sweep whose generator saturates stops there, reports no knee, and names the last trustworthy step")
    func sweepStopsOnSaturation() async {
        var settings = SweepSettings()
        settings.stepSeconds = 1
        settings.warmupSeconds = 0
        // The server never slows down; the generator saturates from 4 users on.
        let result = await Sweep.run(base: scenario(users: 1, runTime: 1), settings: settings) { scenario in
            var machine = CoordinatorMachine(scenario: scenario, intervalNs: 100_000_000)
            _ = machine.add("w", atNs: 0)
            _ = machine.start(runId: "r")
            let cpu = scenario.users >= 4 ? 0.99 : 0.3
            for seq in UInt64(0)..<10 {
                var delta = Self.delta("w", seq: seq, sample: Self.sample(cpu: cpu))
                delta.startNs = Int64(seq) * 100_000_000
                delta.endNs = delta.startNs + 100_000_000
                delta.stages = [0: Self.requests(10, endingAt: delta.startNs + 50_000_000)]
                _ = machine.deliver(delta, atNs: 1_000_000_000)
            }
            machine.requestStop(.runTime)
            machine.finish()
            return machine.result(reason: .runTime, durationNs: 1_000_000_000, runId: "r", startedAt: "")
        }
        #expect(result.steps.map(\.users) == [1, 2, 4])
        #expect(result.steps.map(\.verdict) == [.ok, .ok, .generatorSaturated])
        #expect(result.stoppedBy == "generator_saturated")
        #expect(result.answers.knee == nil)
        #expect(result.lastTrustworthyStep == 2)
        #expect(result.advice?.contains("add workers") == true)
    }

    static func requests(_ count: Int, endingAt end: Int64) -> MetricSet {
        var set = MetricSet()
        for _ in 0..<count {
            set.record(RequestRecord(scheduledNs: end - 10_000_000, sendNs: end - 10_000_000, firstTokenNs: end - 5_000_000,
                                     tokenChunkNs: [end - 5_000_000], endNs: end, outputTokens: 1, status: 200))
        }
        return set
    }
}
