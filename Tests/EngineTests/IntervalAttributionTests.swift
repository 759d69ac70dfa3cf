@testable import StampedeEngine
import StampedeCore
import StampedeMetrics
import StampedeTestSupport
import Synchronization
import Testing

/// A request belongs to the run-clock interval in which it ended, however late the cut runs
/// (issue: a tick that woke > 1 ms late filed a whole second under the next interval).
@Suite("Interval attribution")
struct IntervalAttributionTests {
    static func record(endingAt ns: Int64) -> RequestRecord {
        RequestRecord(scheduledNs: ns - 10, sendNs: ns - 10, firstTokenNs: ns, tokenChunkNs: [ns], endNs: ns, outputTokens: 1, status: 200)
    }

    @Test("each delta holds the requests that ended in its interval; a late request goes out under its own interval")
    func cutsByEndTime() {
        var machine = WorkerMachine(workerId: "w", share: WorkerShare(users: 2, spawnRate: 1), generation: 1, collectRecords: true,
                                    intervalNs: 1_000_000_000)
        var deltas: [IntervalDelta] = []
        for ns: Int64 in [100_000_000, 999_999_999, 1_000_000_000, 3_500_000_000] {
            _ = machine.beginRequest()
            machine.endRequest(Self.record(endingAt: ns))
        }
        // The tick for boundary 1 runs (late or not): interval 0 holds exactly the two that ended before 1 s.
        deltas += machine.cut(through: 0, final: false)
        // A request that ended in interval 0 is recorded only after that cut, and one ends in interval 2.
        _ = machine.beginRequest()
        machine.endRequest(Self.record(endingAt: 900_000_000))
        _ = machine.beginRequest()
        machine.endRequest(Self.record(endingAt: 2_100_000_000))
        deltas += machine.cut(through: 2, final: false)
        deltas += machine.cut(through: 3, final: true)
        #expect(deltas.map(\.interval) == [0, 0, 1, 2, 3])
        #expect(deltas.map(\.seq) == [0, 1, 2, 3, 4])
        #expect(deltas.map { $0.merged.counters.finished } == [2, 1, 1, 1, 1])
        #expect(deltas.map(\.final) == [false, false, false, false, true])
        #expect(deltas.allSatisfy { $0.startNs == Int64($0.interval) * 1_000_000_000 && $0.endNs == $0.startNs + 1_000_000_000 })
        // Records travel with the delta of the interval they ended in.
        for delta in deltas {
            #expect(delta.records.allSatisfy { Int($0.endNs / 1_000_000_000) == delta.interval })
        }
    }

    @Test("on a real run the per-interval series equals a count of the records by end time, exactly")
    func seriesEqualsRecordsOnARun() async throws {
        var options = CoordinatorOptions()
        options.intervalNs = 100_000_000
        let records = Mutex<[RequestRecord]>([])
        let coordinator = RunCoordinator(scenario: scenario(users: 6, runTime: 2.0, collect: true), options: options,
                                         onEvent: RunEvent.records(to: { batch in records.withLock { $0 += batch } }))
        await coordinator.add(LocalWorkerLink(executor: FakeExecutor(delay: .milliseconds(7)), intervalNs: 100_000_000))
        let result = await coordinator.run()
        let all = records.withLock { $0 }
        #expect(all.count == result.overall.requestsFinished && all.count > 100)
        var byInterval: [Int: Int] = [:]
        for record in all { byInterval[Int(record.endNs / 100_000_000), default: 0] += 1 }
        let series = Dictionary(uniqueKeysWithValues: result.timeSeries.map { ($0.interval, $0.finished) })
        let off = Set(byInterval.keys).union(series.keys).filter { (byInterval[$0] ?? 0) != (series[$0] ?? 0) }
        #expect(off.isEmpty, "intervals off: \(off.sorted().map { "\($0): series \(series[$0] ?? 0), records \(byInterval[$0] ?? 0)" })")
    }
}
