@testable import StampedeClient
import StampedeTestSupport
import Synchronization
import Testing

/// The client's per-request bookkeeping: one queue for every timeout, one gate for the connections.
@Suite("Client deadline queue and request gate")
struct ClientQueuesTests {
    @Test("deadlines fire in order, a cancelled one never fires, and nothing is left pending")
    func deadlines() async {
        let queue = DeadlineQueue()
        let fired = Mutex<[Int]>([])
        let now = ContinuousClock.now
        _ = queue.add(at: now + .milliseconds(30)) { fired.withLock { $0.append(1) } }
        let second = queue.add(at: now + .milliseconds(40)) { fired.withLock { $0.append(2) } }
        _ = queue.add(at: now + .milliseconds(50)) { fired.withLock { $0.append(3) } }
        queue.cancel(second)
        #expect(await waitUntil(timeout: .seconds(5)) { fired.withLock { $0.count } == 2 })
        #expect(fired.withLock { $0 } == [1, 3])
        #expect(queue.pending == 0)
        // Many deadlines cancelled long before their time are not kept until then.
        let far = ContinuousClock.now + .seconds(600)
        for _ in 0..<5_000 { queue.cancel(queue.add(at: far) {}) }
        #expect(queue.pending == 0)
    }

    @Test("the gate lets `limit` through with distinct places, queues the rest in order, and a cancelled waiter takes no place")
    func gate() async {
        let gate = RequestGate(limit: 2)
        #expect(await gate.acquire() == 0)
        #expect(await gate.acquire() == 1)
        let order = Mutex<[String]>([])
        let cancelled = Task { await gate.acquire() }
        #expect(await waitUntil(timeout: .seconds(5)) { gate.waiting == 1 })
        let third = Task { let place = await gate.acquire(); order.withLock { $0.append("third") }; return place }
        #expect(await waitUntil(timeout: .seconds(5)) { gate.waiting == 2 })
        cancelled.cancel()
        #expect(await cancelled.value == nil)
        // The place given back goes to the waiter, not to the free places.
        gate.release(1)
        #expect(await third.value == 1)
        #expect(order.withLock { $0 } == ["third"])
        gate.release(0)
        gate.release(1)
        // Two places free again: both taken at once, the last one given back first.
        #expect(await gate.acquire() == 1)
        #expect(await gate.acquire() == 0)
        #expect(gate.waiting == 0)
    }

    @Test("places map a request to a pool with room: no pool is asked for more than its share")
    func placesSpreadOverPools() async {
        let gate = RequestGate(limit: 8)
        var places: [Int] = []
        for _ in 0..<8 { places.append(await gate.acquire()!) }
        #expect(Set(places) == Set(0..<8))
        // Requests end in any order and new ones start: the places held are always distinct, so with
        // 2 pools (place % 2) each holds at most 4, the share its connection limit allows.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let index = Int.random(in: 0..<places.count, using: &generator)
            gate.release(places.remove(at: index))
            places.append(await gate.acquire()!)
            #expect(Set(places).count == 8)
            #expect(places.filter { $0 % 2 == 0 }.count == 4)
        }
    }
}
