import StampedeCore
import StampedeEngine
import StampedeTestSupport
import StampedeWeb
import Synchronization
import Testing

/// The page's control: its answers and refusals (the engine's own words), and the start it waits for.
@Suite struct RunControlTests {
    static func control(waiting: Bool) -> (RunControl, RunCoordinator, WebBoard) {
        let coordinator = RunCoordinator(scenario: Scenario(target: "http://127.0.0.1:9", users: 1, runTimeSeconds: 5))
        let board = WebBoard(waiting: waiting)
        return (RunControl(coordinator: coordinator, board: board, waitForStart: waiting), coordinator, board)
    }

    @Test func startChecksItsNumbersAndReplacesTheScenario() async throws {
        let (control, coordinator, board) = Self.control(waiting: true)
        for (users, rate) in [(0, 1.0), (-3, 1.0), (Scenario.Limits.users + 1, 1.0), (2, 0), (2, -1), (2, .nan), (2, .infinity)] {
            await #expect(throws: RunControl.Refusal.self) { try await control.start(users: users, spawnRate: rate) }
        }
        let answer = try await control.start(users: 7, spawnRate: 3.5)
        #expect(answer == "starting 7 users at 3.5/s")
        let scenario = await coordinator.scenario
        #expect(scenario.users == 7 && scenario.spawnRate == 3.5)
        await control.waitForStart()   // returns: the start was given
        #expect(board.frame.contains("start asked for: 7 users"))
        do {
            _ = try await control.start(users: 2, spawnRate: 1)
            Issue.record("a second start was accepted")
        } catch {
            #expect(error.status == 409 && error.description == "the run has already started")
        }
    }

    @Test func changeBeforeTheRunIsRefusedWithTheEnginesWords() async {
        let (control, _, board) = Self.control(waiting: false)
        do {
            _ = try await control.changeUsers(3)
            Issue.record("a change before the run was accepted")
        } catch {
            #expect(error.description == CoordinatorMachine.LoadChangeRefusal.notRunning.description)
            #expect(error.status == 409)
        }
        #expect(board.frame.contains("change refused: the run is not running"))
    }

    @Test func stopEndsAWaitForAStart() async {
        let (control, coordinator, _) = Self.control(waiting: true)
        #expect(await control.stop() == "stopping")
        await control.waitForStart()
        #expect(await coordinator.isStopRequested)
    }

    @Test func startAtARateMakesAnOpenLoop() async throws {
        let (control, coordinator, _) = Self.control(waiting: true)
        for rate in [0, -1, Double.nan, .infinity, Scenario.Limits.rate * 2] {
            await #expect(throws: RunControl.Refusal.self) { try await control.start(rate: rate) }
        }
        #expect(try await control.start(rate: 2.5) == "starting at 2.5 requests/s")
        #expect(await coordinator.scenario.openLoop?.rate == 2.5)
        await control.waitForStart()
    }

    @Test func aRateChangeDuringARunBecomesAStage() async throws {
        // A long run, stopped once the new stage has begun: a starved machine (the parallel test pass)
        // once reached a 1.5 s run's end before the change's handover, and the run had one stage.
        var scenario = Scenario(target: "http://127.0.0.1:9", users: 1, runTimeSeconds: 60)
        scenario.openLoop = OpenLoop(rate: 4)
        var options = CoordinatorOptions()
        options.arrivalHandover = .milliseconds(100)
        let stageChanges = Mutex(0)
        let coordinator = RunCoordinator(scenario: scenario, options: options) { event in
            if case .stageChanged(let change) = event, change.index == 1 { stageChanges.withLock { $0 += 1 } }
        }
        let control = RunControl(coordinator: coordinator, board: WebBoard(waiting: false), waitForStart: false)
        await coordinator.add(LocalWorkerLink(executor: InstantExecutor()))
        async let result = coordinator.run()
        while await !coordinator.isRunning { await Task.yield() }
        do {
            _ = try await control.changeUsers(3)
            Issue.record("an open loop accepted a change of users")
        } catch {
            #expect(error.description == CoordinatorMachine.LoadChangeRefusal.needsRate.description)
        }
        #expect(try await control.changeRate(8) == "rate changed to 8.0 requests/s")
        let changed = await waitUntil(timeout: .seconds(30)) { stageChanges.withLock { $0 } >= 1 }
        #expect(changed, "no stage change within 30 s")
        await coordinator.requestStop()
        #expect(await result.stages.map(\.rate) == [4, 8])
    }
}

/// Answers at once: the load's shape is what these tests look at, not its latency.
struct InstantExecutor: RequestExecutor {
    func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord {
        RequestRecord(scheduledNs: scheduledNs, sendNs: scheduledNs, firstTokenNs: scheduledNs, tokenChunkNs: [scheduledNs], endNs: scheduledNs,
                      outputTokens: 1, status: 200)
    }
}
