import Clocks
import StampedeCore
import Synchronization
import StampedeEngine
import StampedeTestSupport
import Testing

@Suite("Run events")
struct RunEventTests {
    static func labels(_ events: [RunEvent]) -> [String] {
        events.map { event in
            switch event {
            case .started: "started"
            case .interval: "interval"
            case .stageChanged: "stage"
            case .worker(let change): "worker \(change.worker) \(change.kind)"
            case .generatorSaturated: "saturated"
            case .records: "records"
            case .finished: "finished"
            }
        }
    }

    static func started(_ name: String) -> RunEvent {
        .started(RunStarted(runId: name, name: name, startedAt: "", scenario: scenario(users: 1), workers: []))
    }

    @Test("every subscriber gets every event in order; a newest-only one keeps the last; close ends the streams")
    func hubFansOut() async {
        let hub = RunEventHub()
        let first = hub.subscribe(.every)
        let second = hub.subscribe(.every)
        let newest = hub.subscribe(.newest(1))
        #expect(hub.subscriberCount == 3)
        for name in ["a", "b", "c"] { hub.publish(Self.started(name)) }
        hub.close()
        hub.publish(Self.started("late"))
        func names(_ stream: AsyncStream<RunEvent>) async -> [String] {
            var out: [String] = []
            for await case .started(let s) in stream { out.append(s.runId) }
            return out
        }
        #expect(await names(first) == ["a", "b", "c"])
        #expect(await names(second) == ["a", "b", "c"])
        #expect(await names(newest) == ["c"])
        // After close, a subscription ends at once.
        #expect(await names(hub.subscribe()) == [])
    }

    /// A 3 s run of two users on a test clock (a request each 250 ms), its events logged.
    static func runOnATestClock(snapshots: Bool) async throws -> (EventLog, RunResult) {
        let (testClock, clock, options) = onATestClock { $0.snapshots = snapshots }
        let log = EventLog()
        let coordinator = RunCoordinator(scenario: scenario(users: 2, spawnRate: 1000, runTime: 3, collect: true), options: options,
                                         onEvent: log.onEvent)
        await coordinator.add(LocalWorkerLink(workerId: "w0", executor: ClockedExecutor(clock: clock, latencyNs: 250_000_000), clock: clock))
        return (log, try #require(try await runToTheEnd(coordinator, testClock, maxSteps: 1_000)))
    }

    @Test("a run publishes joins, started first, intervals with snapshots when asked, records, and finished last")
    func coordinatorPublishes() async throws {
        let (log, result) = try await Self.runOnATestClock(snapshots: true)
        let events = log.all
        let labels = Self.labels(events)
        #expect(labels.first == "worker w0 joined")
        #expect(labels.dropFirst().first == "started")
        #expect(labels.last == "finished")
        #expect(labels.filter { $0 == "interval" }.count >= 2, "\(labels)")
        // The records published are the requests the results count.
        #expect(log.records.count == result.overall.requestsFinished)
        // Snapshots are the results so far: growing, never past the final ones, workers shown running.
        var previous = 0
        for case .interval(let update) in events {
            let snapshot = try #require(update.snapshot)
            #expect(snapshot.overall.requestsFinished >= previous)
            #expect(snapshot.overall.requestsFinished <= result.overall.requestsFinished)
            #expect(snapshot.workers.map(\.state) == [.running])
            #expect(snapshot.timeSeries.last == update.point)
            previous = snapshot.overall.requestsFinished
        }
        #expect(previous > 0)
        guard case .finished(let final) = events.last else { Issue.record("no finished event"); return }
        #expect(final.runId == result.runId)
        #expect(final.workers.first?.host.isEmpty == false, "finished carries the decorated results")
    }

    @Test("without snapshots asked for, interval events carry none")
    func noSnapshotsByDefault() async throws {
        let (log, _) = try await Self.runOnATestClock(snapshots: false)
        var intervals = 0
        for case .interval(let update) in log.all {
            intervals += 1
            #expect(update.snapshot == nil)
            #expect(update.point != nil)
        }
        #expect(intervals >= 2)
    }
}
