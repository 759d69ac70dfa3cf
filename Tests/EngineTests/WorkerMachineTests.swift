@testable import StampedeEngine
import StampedeCore
import StampedeMetrics
import Testing

/// The worker's state machine on plain numbers: no clock, no tasks, no sleeps.
@Suite("Worker state machine")
struct WorkerMachineTests {
    static let second: Int64 = 1_000_000_000

    static func machine(users: Int, spawnRate: Double = 1, budget: Int? = nil) -> WorkerMachine {
        WorkerMachine(workerId: "w", share: WorkerShare(users: users, spawnRate: spawnRate, requestBudget: budget), generation: 1,
                      collectRecords: false, intervalNs: second)
    }

    static func record(endingAt ns: Int64, stage: Int = 0) -> RequestRecord {
        RequestRecord(stage: stage, scheduledNs: ns - 10, sendNs: ns - 10, firstTokenNs: ns, tokenChunkNs: [ns], endNs: ns, outputTokens: 1,
                      status: 200)
    }

    @Test("a loop that wakes a little late every time still starts users at the spawn rate")
    func slightlyLateLoopKeepsTheRate() {
        var machine = Self.machine(users: 2_000, spawnRate: 2_000)
        var now: Int64 = 0
        var spawned = 0
        // Every wake-up comes 200 µs after the user was due (period 500 µs).
        while spawned < 2_000 {
            switch machine.nextSpawn(atNs: now) {
            case .spawn: spawned += 1
            case .wait(let due): now = due + 200_000
            case .idle: Issue.record("idle before all users started"); return
            }
        }
        // On the grid the last user is due at 999.5 ms; a loop that reckoned from its late wake-ups
        // (a period after now) would have taken 2,000 × 0.7 ms = 1.4 s.
        #expect(now <= Self.second, "2,000 users took \(now / 1_000_000) ms")
    }

    @Test("a long stall is made up for at most 100 ms of spawns")
    func longStallDoesNotBurst() {
        var machine = Self.machine(users: 10_000, spawnRate: 1_000)
        #expect(machine.nextSpawn(atNs: 0) == .spawn(user: 0))
        // The loop wakes 2 s late: it starts the users of the last 100 ms (plus the one due now), then waits.
        var burst = 0
        while case .spawn = machine.nextSpawn(atNs: 2 * Self.second) { burst += 1 }
        #expect(burst == 101)
    }

    @Test("users start at the spawn rate; a late loop does not burst")
    func spawnRate() {
        var machine = Self.machine(users: 3, spawnRate: 2)
        do {
            let decided = machine.nextSpawn(atNs: 0)
            #expect(decided == .spawn(user: 0))
        }
        do {
            let decided = machine.nextSpawn(atNs: 0)
            #expect(decided == .wait(untilNs: Self.second / 2))
        }
        do {
            let decided = machine.nextSpawn(atNs: Self.second / 2)
            #expect(decided == .spawn(user: 1))
        }
        // The loop wakes 700 ms late: one user starts (past the 100 ms catch-up), the next is due
        // 400 ms after now.
        do {
            let decided = machine.nextSpawn(atNs: 1_700_000_000)
            #expect(decided == .spawn(user: 2))
        }
        do {
            let decided = machine.nextSpawn(atNs: 1_700_000_000)
            #expect(decided == .idle)
        }
        #expect(machine.alive == [0, 1, 2])
    }

    @Test("a smaller share stops the users above it; a larger one restarts the lowest free indices")
    func shareChanges() {
        var machine = Self.machine(users: 4, spawnRate: 1000)
        var now: Int64 = 0
        for expected in 0..<4 {
            do {
                let decided = machine.nextSpawn(atNs: now)
                #expect(decided == .spawn(user: expected))
            }
            now += Self.second
        }
        let shrunk = machine.update(WorkerShare(users: 2, spawnRate: 1000), generation: 2)
        let stale = machine.update(WorkerShare(users: 9, spawnRate: 1000), generation: 2)
        #expect(shrunk)
        #expect(!stale, "a stale generation is ignored")
        #expect(machine.shouldRun(1) && !machine.shouldRun(2) && !machine.shouldRun(3))
        machine.userEnded(3)
        machine.userEnded(2)
        do {
            let decided = machine.nextSpawn(atNs: now)
            #expect(decided == .idle)
        }
        let grown = machine.update(WorkerShare(users: 4, spawnRate: 1000), generation: 3)
        #expect(grown)
        do {
            let decided = machine.nextSpawn(atNs: now)
            #expect(decided == .spawn(user: 2))
        }
        now += Self.second
        do {
            let decided = machine.nextSpawn(atNs: now)
            #expect(decided == .spawn(user: 3))
        }
    }

    @Test("the budget is taken exactly, and exhaustion is reported once, when nothing is in flight")
    func budget() {
        var machine = Self.machine(users: 2, budget: 3)
        do {
            let decided = machine.beginRequest()
            #expect(decided == 0)
        }
        do {
            let decided = machine.beginRequest()
            #expect(decided == 0)
        }
        do {
            let decided = machine.beginRequest()
            #expect(decided == 0)
        }
        do {
            let decided = machine.beginRequest()
            #expect(decided == nil)
        }
        #expect(machine.budgetSpent && !machine.exhausted)
        do {
            let decided = machine.nextSpawn(atNs: 0)
            #expect(decided == .idle, "no user starts once the budget is spent")
        }
        machine.endRequest(Self.record(endingAt: 100))
        machine.endRequest(Self.record(endingAt: 200))
        #expect(!machine.exhaustionDue)
        machine.endRequest(Self.record(endingAt: 300))
        #expect(machine.exhaustionDue)
        let deltas = machine.cut(through: 0, final: false)
        #expect(deltas.count == 1 && deltas[0].exhausted && deltas[0].merged.counters.finished == 3)
        #expect(!machine.exhaustionDue)
    }

    @Test("stop ends spawning, tickets and arrivals at once; a cancelled request is not counted")
    func stop() {
        var machine = Self.machine(users: 1_000_000, spawnRate: 1e9)
        do {
            let decided = machine.nextSpawn(atNs: 0)
            #expect(decided == .spawn(user: 0))
        }
        do {
            let decided = machine.beginRequest()
            #expect(decided == 0)
        }
        machine.stop()
        do {
            let decided = machine.nextSpawn(atNs: 1)
            #expect(decided == .idle)
        }
        do {
            let decided = machine.beginRequest()
            #expect(decided == nil)
        }
        #expect(!machine.shouldRun(0))
        do {
            let decided = machine.admitArrival(0, atNs: 5, stage: 0)
            #expect(decided == .spent)
        }
        machine.endRequest(nil)
        let final = machine.cut(through: 0, final: true)
        #expect(final.count == 1 && final[0].final && final[0].merged.counters.finished == 0 && final[0].inFlight == 0)
    }

    @Test("requests cancelled by the stop count their time in flight up to the stop as busy time, not as finished")
    func inFlightBusyTime() {
        var machine = Self.machine(users: 3, spawnRate: 1e9)
        for _ in 0..<3 {
            let decided = machine.beginRequest()
            #expect(decided == 0)
        }
        machine.stop(atNs: 2_500_000_000)
        machine.stop(atNs: 2_700_000_000) // a later stop does not move the first
        // Two cancelled (began at 0.5 s and 1 s), one ended normally with a record (its own end − send).
        machine.endRequest(nil, stage: 0, beganNs: 500_000_000, nowNs: 2_600_000_000)
        machine.endRequest(nil, stage: 0, beganNs: 1_000_000_000, nowNs: 2_600_000_000)
        var record = Self.record(endingAt: 2_400_000_000)
        record.sendNs = 2_000_000_000
        machine.endRequest(record, stage: 0, beganNs: 2_000_000_000, nowNs: 2_400_000_000)
        let final = machine.cut(through: 2, final: true)
        let counters = final.reduce(into: Counters()) { $0.add($1.merged.counters) }
        #expect(counters.finished == 1)
        #expect(counters.busyNanoseconds == 2_000_000_000 + 1_500_000_000 + 400_000_000)
        // Without a stop time (the run task cancelled), the end is the time the cancellation was seen.
        var other = Self.machine(users: 1, spawnRate: 1e9)
        let began = other.beginRequest()
        #expect(began == 0)
        other.endRequest(nil, stage: 0, beganNs: 100, nowNs: 1_100)
        let deltas = other.cut(through: 0, final: true)
        #expect(deltas.reduce(0) { $0 + $1.merged.counters.busyNanoseconds } == 1_000)
    }

    @Test("open loop: only this worker's slot is sent, and past the in-flight cap arrivals are dropped and counted")
    func arrivals() {
        var machine = WorkerMachine(workerId: "w", share: WorkerShare(users: 0, spawnRate: 0, rate: 10, arrivalSlot: 1, arrivalSlots: 2,
                                                                      effectiveAtNs: 0, maxInFlight: 1),
                                    generation: 1, collectRecords: false, intervalNs: Self.second)
        do {
            let decided = machine.admitArrival(0, atNs: 0, stage: 0)
            #expect(decided == .notMine)
        }
        do {
            let decided = machine.admitArrival(1, atNs: 100, stage: 0)
            #expect(decided == .send)
        }
        do {
            let decided = machine.admitArrival(3, atNs: 1_200_000_000, stage: 0)
            #expect(decided == .dropped)
        }
        machine.endRequest(Self.record(endingAt: 1_300_000_000))
        do {
            let decided = machine.admitArrival(5, atNs: 1_400_000_000, stage: 0)
            #expect(decided == .send)
        }
        let deltas = machine.cut(through: 1, final: false)
        // Interval 0 holds nothing: the cut sends the interval it closes and those with requests, not empty ones before.
        #expect(deltas.map(\.interval) == [1])
        #expect(deltas.first?.merged.counters.droppedArrivals == 1 && deltas.first?.merged.counters.finished == 1)
        #expect(deltas.first?.inFlight == 1)
    }

    @Test("spawning a million users takes one step each (no scan over the users)")
    func manyUsers() {
        var machine = Self.machine(users: 1_000_000, spawnRate: 1e9)
        var spawned = 0
        while case .spawn = machine.nextSpawn(atNs: Int64(spawned)) { spawned += 1 }
        #expect(spawned == 1_000_000)
        #expect(machine.alive.count == 1_000_000)
    }
}
