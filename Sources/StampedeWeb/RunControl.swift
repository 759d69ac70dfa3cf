import Foundation
import StampedeCore
import StampedeEngine

/// The page's control over one run: start (when the run waits for it) with users and a spawn rate or with
/// an open-loop rate, change users or the rate, stop. Each answer is a sentence for the page; a refusal
/// carries the engine's own words.
public actor RunControl {
    let coordinator: RunCoordinator
    let board: WebBoard
    private var waiting: Bool
    private let starts: AsyncStream<Void>
    private let startsContinuation: AsyncStream<Void>.Continuation

    public init(coordinator: RunCoordinator, board: WebBoard, waitForStart: Bool) {
        self.coordinator = coordinator
        self.board = board
        waiting = waitForStart
        (starts, startsContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        if !waitForStart { startsContinuation.finish() }
    }

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
        public let status: Int
    }

    /// Returns once the page asked for a start, or `abortWait` was called (Ctrl-C).
    public func waitForStart() async {
        for await _ in starts { return }
    }

    /// Ends a wait for a start (the run is being interrupted).
    public nonisolated func abortWait() { startsContinuation.finish() }

    /// Start with `users` at `spawnRate` users/s: the scenario given on the command line with these numbers.
    public func start(users: Int, spawnRate: Double) async throws(Refusal) -> String {
        guard waiting else { throw Refusal(description: "the run has already started", status: 409) }
        guard (1...Scenario.Limits.users).contains(users) else {
            throw Refusal(description: "users must be between 1 and \(Scenario.Limits.users), not \(users)", status: 400)
        }
        guard spawnRate.isFinite, spawnRate > 0, spawnRate <= Scenario.Limits.rate else {
            throw Refusal(description: "spawn rate must be above 0 and at most \(Int(Scenario.Limits.rate)) users/s", status: 400)
        }
        var scenario = await coordinator.scenario
        scenario.users = users
        scenario.spawnRate = spawnRate
        do { try await coordinator.replaceScenario(scenario) } catch { throw Refusal(description: error.description, status: 400) }
        waiting = false
        board.markStarting(users: users, spawnRate: spawnRate)
        startsContinuation.yield()
        startsContinuation.finish()
        return "starting \(users) users at \(spawnRate)/s"
    }

    /// Start an open loop of `rate` requests per second (the scenario given on the command line, its users
    /// replaced by arrivals).
    public func start(rate: Double) async throws(Refusal) -> String {
        guard waiting else { throw Refusal(description: "the run has already started", status: 409) }
        guard rate.isFinite, rate > 0, rate <= Scenario.Limits.rate else {
            throw Refusal(description: "the rate must be above 0 and at most \(Int(Scenario.Limits.rate)) requests/s", status: 400)
        }
        var scenario = await coordinator.scenario
        var open = scenario.openLoop ?? OpenLoop(rate: rate)
        open.rate = rate
        scenario.openLoop = open
        do { try await coordinator.replaceScenario(scenario) } catch { throw Refusal(description: error.description, status: 400) }
        waiting = false
        board.note("starting at \(rate) requests/s")
        startsContinuation.yield()
        startsContinuation.finish()
        return "starting at \(rate) requests/s"
    }

    /// Changes an open loop's rate (a new stage, after the arrival handover). Closed-loop runs and runs with
    /// planned stages refuse.
    public func changeRate(_ rate: Double) async throws(Refusal) -> String {
        try await changeLoad(users: nil, rate: rate, done: "rate changed to \(rate) requests/s")
    }

    /// Changes the total users now (a new stage). Open-loop runs and runs with planned stages refuse.
    public func changeUsers(_ users: Int) async throws(Refusal) -> String {
        try await changeLoad(users: users, rate: nil, done: "users changed to \(users)")
    }

    /// Asks the engine for the change; its refusal (in its own words) becomes a 409, and either way the
    /// board notes what happened.
    private func changeLoad(users: Int?, rate: Double?, done: String) async throws(Refusal) -> String {
        do {
            try await coordinator.changeLoad(users: users, rate: rate)
        } catch {
            board.note("change refused: \(error.description)")
            throw Refusal(description: error.description, status: 409)
        }
        board.note(done)
        return done
    }

    public func stop() async -> String {
        if waiting {
            abortWait()
            waiting = false
        }
        await coordinator.requestStop(.interrupted)
        board.note("stop asked for from the page")
        return "stopping"
    }
}
