@testable import StampedeEngine
import StampedeCore
import StampedeMetrics
import Testing

/// The coordinator's state machine on plain numbers: no clock, no links, no sleeps.
@Suite("Coordinator state machine")
struct CoordinatorMachineTests {
    static let second: Int64 = 1_000_000_000

    /// The assignments in `actions`, by worker: new starts and reshares.
    static func assigned(_ actions: [CoordinatorMachine.Action]) -> (generation: Int, starts: [String: WorkerShare], updates: [String: WorkerShare])? {
        for case .assign(let generation, let starts, let updates) in actions {
            return (generation, Dictionary(uniqueKeysWithValues: starts.map { ($0.worker, $0.assignment.share) }),
                    Dictionary(uniqueKeysWithValues: updates.map { ($0.worker, $0.share) }))
        }
        return nil
    }

    /// A delta of `finished` successful requests ending in `interval`.
    static func delta(_ worker: String, seq: UInt64, interval: Int, finished: Int, inFlight: Int = 0, exhausted: Bool = false) -> IntervalDelta {
        var set = MetricSet()
        let end = Int64(interval) * second + 1
        for _ in 0..<finished {
            set.record(RequestRecord(scheduledNs: end - 1, sendNs: end - 1, firstTokenNs: end, tokenChunkNs: [end], endNs: end, outputTokens: 1,
                                     status: 200))
        }
        return IntervalDelta(worker: worker, seq: seq, interval: interval, startNs: Int64(interval) * second, endNs: Int64(interval + 1) * second,
                             users: 1, inFlight: inFlight, stages: [0: set], exhausted: exhausted)
    }

    @Test("the start shares users over the workers in join order; none means the start failed")
    func start() {
        var machine = CoordinatorMachine(scenario: scenario(users: 10, spawnRate: 10))
        _ = machine.add("a", atNs: 0)
        _ = machine.add("b", atNs: 0)
        _ = machine.add("c", atNs: 0)
        let assigned = Self.assigned(machine.start(runId: "r"))
        #expect(assigned?.generation == 1)
        #expect(assigned?.starts.mapValues(\.users) == ["a": 4, "b": 3, "c": 3])
        #expect(assigned?.starts.mapValues(\.userBase) == ["a": 0, "b": 4, "c": 7])
        #expect(machine.isRunning)

        var empty = CoordinatorMachine(scenario: scenario(users: 10))
        do {
            let decided = empty.start(runId: "r")
            #expect(decided.isEmpty)
        }
        #expect(empty.stopReason == .startFailed)
    }

    @Test("a worker that joins mid-run starts with a share and the others are reshared; a lost one's users move")
    func joinAndLose() {
        var machine = CoordinatorMachine(scenario: scenario(users: 6))
        _ = machine.add("a", atNs: 0)
        _ = machine.start(runId: "r")
        let (joining, actions) = machine.add("b", atNs: 2 * Self.second)
        #expect(joining == .joined)
        let joined = Self.assigned(actions)
        #expect(joined?.generation == 2)
        #expect(joined?.starts.mapValues(\.users) == ["b": 3])
        #expect(joined?.updates.mapValues(\.users) == ["a": 3])
        let lost = Self.assigned(machine.lose("a", atNs: 3 * Self.second) ?? [])
        #expect(lost?.updates.mapValues(\.users) == ["b": 6])
        do {
            let decided = machine.lose("a", atNs: 3 * Self.second)
            #expect(decided == nil, "a worker is lost once")
        }
        do {
            let decided = machine.lose("b", atNs: 4 * Self.second)
            #expect(decided == [])
        }
        #expect(machine.stopReason == .allWorkersLost)
    }

    @Test("budgets: each worker keeps what it committed, the rest is split; a rejoined worker counts from what it finished")
    func budgetsAndRejoin() {
        var machine = CoordinatorMachine(scenario: scenario(users: 4, maxRequests: 100))
        _ = machine.add("a", atNs: 0)
        _ = machine.add("b", atNs: 0)
        do {
            let decided = Self.assigned(machine.start(runId: "r"))
            #expect(decided?.starts.mapValues(\.requestBudget) == ["a": 50, "b": 50])
        }
        do {
            let decided = machine.deliver(Self.delta("a", seq: 0, interval: 0, finished: 30, inFlight: 2), atNs: Self.second).0
            #expect(decided == .applied)
        }
        do {
            let decided = machine.deliver(Self.delta("b", seq: 0, interval: 0, finished: 10), atNs: Self.second).0
            #expect(decided == .applied)
        }
        // c joins: a committed 32, b 10; the remaining 58 are split over three.
        let joined = Self.assigned(machine.add("c", atNs: Self.second).1)
        #expect(joined?.updates.mapValues(\.requestBudget) == ["a": 32 + 20, "b": 10 + 19])
        #expect(joined?.starts.mapValues(\.requestBudget) == ["c": 19])
        // a's connection drops and it rejoins: its new generator counts from the 30 it finished.
        _ = machine.lose("a", atNs: 2 * Self.second)
        let (joining, actions) = machine.add("a", atNs: 2 * Self.second)
        #expect(joining == .rejoined)
        let rejoined = Self.assigned(actions)
        #expect(rejoined?.starts["a"]?.requestBudget == (30 - 30) + 20)
        #expect(machine.workerCount == 3)
    }

    @Test("the run stops when every live worker spent its budget, at the delta that says so")
    func exhaustionStops() {
        var machine = CoordinatorMachine(scenario: scenario(users: 2, maxRequests: 4))
        _ = machine.add("a", atNs: 0)
        _ = machine.add("b", atNs: 0)
        _ = machine.start(runId: "r")
        _ = machine.deliver(Self.delta("a", seq: 0, interval: 0, finished: 2, exhausted: true), atNs: Self.second)
        #expect(machine.stopReason == nil)
        _ = machine.deliver(Self.delta("b", seq: 0, interval: 0, finished: 2, exhausted: true), atNs: Self.second)
        #expect(machine.stopReason == .maxRequests)
        #expect(machine.aggregator.total.counters.finished == 4)
    }

    @Test("deltas from strangers, from the future and repeated seqs are not merged")
    func deltaChecks() {
        var machine = CoordinatorMachine(scenario: scenario(users: 1))
        _ = machine.add("a", atNs: 0)
        _ = machine.start(runId: "r")
        do {
            let decided = machine.deliver(Self.delta("x", seq: 0, interval: 0, finished: 1), atNs: Self.second).0
            #expect(decided == .unknownWorker)
        }
        if case .refused = machine.deliver(Self.delta("a", seq: 0, interval: 60, finished: 1), atNs: Self.second).0 {} else {
            Issue.record("a delta a minute ahead of the run clock was merged")
        }
        do {
            let decided = machine.deliver(Self.delta("a", seq: 1, interval: 0, finished: 1), atNs: Self.second).0
            #expect(decided == .applied)
        }
        do {
            let decided = machine.deliver(Self.delta("a", seq: 1, interval: 0, finished: 1), atNs: Self.second).0
            #expect(decided == .duplicate)
        }
        #expect(machine.aggregator.total.counters.finished == 1)
        #expect(machine.rejectedDeltas == 2)
    }

    @Test("the timer stops at the run time, switches stages on the plan, and the deadline names the next of these")
    func timerAndDeadlines() {
        var staged = scenario(users: 2, runTime: 10)
        staged.stages = [Stage(users: 2, durationSeconds: 2), Stage(users: 8, durationSeconds: 3)]
        var machine = CoordinatorMachine(scenario: staged)
        _ = machine.add("a", atNs: 0)
        _ = machine.add("b", atNs: 0)
        do {
            let decided = Self.assigned(machine.start(runId: "r"))
            #expect(decided?.starts.mapValues(\.users) == ["a": 1, "b": 1])
        }
        // The first live line is due when interval 0 closed (1 s) plus the lag.
        #expect(machine.nextDeadlineNs(afterNs: 0) == 1_300_000_000)
        do {
            let decided = machine.timer(atNs: 1_300_000_000)
            #expect(decided.allSatisfy { if case .live = $0 { true } else { false } })
        }
        #expect(machine.nextDeadlineNs(afterNs: 1_300_000_000) == 2 * Self.second, "the next stage comes before the next live line")
        let actions = machine.timer(atNs: 2 * Self.second)
        #expect(actions.first == .stageChanged(index: 1, label: staged.stages![1].label))
        #expect(Self.assigned(actions)?.updates.mapValues(\.users) == ["a": 4, "b": 4])
        #expect(Self.assigned(actions)?.updates.mapValues(\.stage) == ["a": 1, "b": 1])
        _ = machine.timer(atNs: 4_500_000_000)
        #expect(machine.nextDeadlineNs(afterNs: 4_500_000_000) == 5 * Self.second, "the end of the stages")
        _ = machine.timer(atNs: 4_999_999_999)
        #expect(machine.stopReason == nil)
        _ = machine.timer(atNs: 5 * Self.second)
        #expect(machine.stopReason == .runTime)
    }

    @Test("a deadline is always after the time the timer last ran")
    func deadlinesAdvance() {
        var machine = CoordinatorMachine(scenario: scenario(users: 1, runTime: 30))
        _ = machine.add("a", atNs: 0)
        _ = machine.start(runId: "r")
        var now: Int64 = 0
        var wakeups = 0
        while machine.stopReason == nil, wakeups < 1000 {
            _ = machine.timer(atNs: now)
            guard machine.stopReason == nil else { break }
            let next = machine.nextDeadlineNs(afterNs: now)
            #expect(next > now)
            now = next
            wakeups += 1
        }
        #expect(machine.stopReason == .runTime)
        // One wake-up per live interval (30) and the end: not a poll.
        #expect(wakeups <= 31)
    }

    @Test("the first stop reason wins")
    func stopReason() {
        var machine = CoordinatorMachine(scenario: scenario(users: 1))
        _ = machine.add("a", atNs: 0)
        _ = machine.start(runId: "r")
        machine.requestStop(.interrupted)
        machine.requestStop(.runTime)
        #expect(machine.stopReason == .interrupted)
        do {
            let decided = machine.timer(atNs: Self.second)
            #expect(decided.isEmpty)
        }
    }
}
