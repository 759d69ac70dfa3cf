import StampedeEngine
import Testing

@Suite("Dispatch of users, spawn rate and budgets")
struct DispatchTests {
    @Test func tenOverThreeIsFourThreeThree() {
        #expect(Dispatch.split(10, over: 3) == [4, 3, 3])
        #expect(Dispatch.split(2, over: 3) == [1, 1, 0])
        #expect(Dispatch.split(9, over: 3) == [3, 3, 3])
        #expect(Dispatch.split(5, over: 0) == [])
    }

    @Test func spawnRateIsGlobalAndBudgetsSum() {
        let shares = Dispatch.shares(users: 10, spawnRate: 2, requestBudget: 101, workers: 3)
        #expect(shares.map(\.users) == [4, 3, 3])
        #expect(abs(shares.map(\.spawnRate).reduce(0, +) - 2) < 1e-12)
        #expect(shares.map { $0.requestBudget! }.reduce(0, +) == 101)
        #expect(shares.map(\.userBase) == [0, 4, 7])
    }

    @Test func sevenUsersOverTwoWorkersWithoutABudget() {
        #expect(Dispatch.shares(users: 7, spawnRate: 1, requestBudget: nil, workers: 2) == [
            WorkerShare(users: 4, spawnRate: 4.0 / 7, userBase: 0, requestBudget: nil, stage: 0),
            WorkerShare(users: 3, spawnRate: 3.0 / 7, userBase: 4, requestBudget: nil, stage: 0),
        ])
    }

    @Test func noUsersGetNoSpawnRateAndMoreWorkersThanUsersGetNone() {
        #expect(Dispatch.shares(users: 0, spawnRate: 5, requestBudget: 3, workers: 2).map(\.spawnRate) == [0, 0])
        let shares = Dispatch.shares(users: 2, spawnRate: 2, requestBudget: 5, workers: 3, stage: 1)
        #expect(shares.map(\.users) == [1, 1, 0])
        #expect(shares.map(\.spawnRate) == [1, 1, 0])
        #expect(shares.map(\.requestBudget) == [2, 2, 1])
        #expect(shares.allSatisfy { $0.stage == 1 && $0.rate == nil && $0.arrivalSlot == nil })
    }
}
