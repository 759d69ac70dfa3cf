@testable import StampedeEngine
import StampedeCore
import StampedeMetrics
import Testing

/// A change of users during the run (the dashboard's control), on plain numbers.
@Suite("Load change during a run")
struct LoadChangeTests {
    static let second = CoordinatorMachineTests.second

    @Test("a change of users becomes a new stage, shared over the live workers at once")
    func changeUsers() throws {
        var machine = CoordinatorMachine(scenario: scenario(users: 4, spawnRate: 4, runTime: 60))
        _ = machine.add("a", atNs: 0)
        _ = machine.add("b", atNs: 0)
        _ = machine.start(runId: "r")
        let actions = try machine.changeLoad(users: 10, atNs: 5 * Self.second).get()
        #expect(actions.first == .stageChanged(index: 1, label: "10 users from 5s"))
        let assigned = CoordinatorMachineTests.assigned(actions)
        #expect(assigned?.updates.mapValues(\.users) == ["a": 5, "b": 5])
        #expect(assigned?.updates.mapValues(\.stage) == ["a": 1, "b": 1])
        #expect(machine.currentStage == 1)
        // The load before the change is stage 0, with the scenario's users; the run still ends at its run time.
        #expect(machine.plan.steps.map(\.users) == [4, 10])
        #expect(machine.plan.steps.map(\.startNs) == [0, 5 * Self.second])
        #expect(machine.plan.steps[0].label == "4 users")
        #expect(machine.plan.endNs == nil)
        #expect(machine.timer(atNs: 30 * Self.second).contains { if case .stageChanged = $0 { true } else { false } } == false)
        _ = machine.timer(atNs: 60 * Self.second)
        #expect(machine.stopReason == .runTime)

        // A second change ends the first and starts another; the results have one block per stage.
        var again = CoordinatorMachine(scenario: scenario(users: 2, runTime: 60))
        _ = again.add("a", atNs: 0)
        _ = again.start(runId: "r")
        _ = try again.changeLoad(users: 3, atNs: 2 * Self.second).get()
        _ = try again.changeLoad(users: 1, atNs: 7 * Self.second).get()
        #expect(again.plan.steps.map(\.users) == [2, 3, 1])
        #expect(again.plan.steps.map(\.endNs).prefix(2) == [2 * Self.second, 7 * Self.second])
        again.requestStop(.interrupted)
        again.finish()
        let result = again.result(reason: .interrupted, durationNs: 10 * Self.second, runId: "r", startedAt: "")
        #expect(result.stages.map(\.users) == [2, 3, 1])
        #expect(result.stages.map(\.summary.durationSeconds) == [2, 5, 3])
    }

    static func machine(users: Int) -> CoordinatorMachine {
        var machine = CoordinatorMachine(scenario: scenario(users: users, runTime: 10))
        _ = machine.add("a", atNs: 0)
        _ = machine.start(runId: "r")
        return machine
    }

    @Test("an open loop's new rate starts after the handover, with the same segments for every worker")
    func changeRate() throws {
        var open = scenario(users: 1, runTime: 60)
        open.openLoop = OpenLoop(rate: 2)
        var machine = CoordinatorMachine(scenario: open, arrivalHandoverNs: 500_000_000)
        _ = machine.add("a", atNs: 0)
        _ = machine.add("b", atNs: 0)
        _ = machine.start(runId: "r")
        let actions = try machine.changeLoad(rate: 10, atNs: 4 * Self.second).get()
        let assigned = try #require(CoordinatorMachineTests.assigned(actions))
        let segments = [RateSegment(startNs: 0, rate: 2), RateSegment(startNs: 4_500_000_000, rate: 10)]
        #expect(assigned.updates.mapValues(\.rateSegments) == ["a": segments, "b": segments])
        #expect(assigned.updates.values.allSatisfy { $0.openLoopFieldsValid })
        // The stage changes when the new rate starts, not before.
        #expect(machine.currentStage == 0)
        #expect(machine.nextDeadlineNs(afterNs: 4 * Self.second + 1) <= 4_500_000_000)
        #expect(!machine.timer(atNs: 4_400_000_000).contains { if case .stageChanged = $0 { true } else { false } })
        let atChange = machine.timer(atNs: 4_500_000_000)
        #expect(atChange.contains(.stageChanged(index: 1, label: "10 req/s from 4.5s")))
        #expect(CoordinatorMachineTests.assigned(atChange)?.updates["a"]?.rateSegments == segments)
        #expect(machine.currentStage == 1)
    }

    @Test("refused: before the run, in an open loop, with planned stages, and past the users limit")
    func refusals() {
        var idle = CoordinatorMachine(scenario: scenario(users: 2))
        _ = idle.add("a", atNs: 0)
        #expect(idle.changeLoad(users: 3, atNs: 0) == .failure(.notRunning))

        var open = scenario(users: 1, runTime: 10)
        open.openLoop = OpenLoop(rate: 2)
        var openMachine = CoordinatorMachine(scenario: open)
        _ = openMachine.add("a", atNs: 0)
        _ = openMachine.start(runId: "r")
        #expect(openMachine.changeLoad(users: 3, atNs: 1) == .failure(.needsRate))
        #expect(openMachine.changeLoad(rate: 0, atNs: 1) == .failure(.rate(0)))
        #expect(openMachine.changeLoad(rate: .infinity, atNs: 1) == .failure(.rate(.infinity)))
        var closed = Self.machine(users: 1)
        #expect(closed.changeLoad(rate: 3, atNs: 1) == .failure(.needsUsers))

        var staged = scenario(users: 1)
        staged.stages = [Stage(users: 1, durationSeconds: 5), Stage(users: 2, durationSeconds: 5)]
        var stagedMachine = CoordinatorMachine(scenario: staged)
        _ = stagedMachine.add("a", atNs: 0)
        _ = stagedMachine.start(runId: "r")
        #expect(stagedMachine.changeLoad(users: 3, atNs: 1) == .failure(.plannedStages))

        var machine = CoordinatorMachine(scenario: scenario(users: 1, runTime: 10))
        _ = machine.add("a", atNs: 0)
        _ = machine.start(runId: "r")
        #expect(machine.changeLoad(users: -1, atNs: 1) == .failure(.users(-1)))
        #expect(machine.changeLoad(users: Scenario.Limits.users + 1, atNs: 1) == .failure(.users(Scenario.Limits.users + 1)))
        #expect(machine.currentStage == 0)
        #expect(machine.plan.isEmpty)
    }
}
