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

    @Test("the gate lets `limit` through, queues the rest in order, and a cancelled waiter takes no place")
    func gate() async {
        let gate = RequestGate(limit: 2)
        #expect(await gate.acquire())
        #expect(await gate.acquire())
        let order = Mutex<[String]>([])
        let cancelled = Task { await gate.acquire() }
        #expect(await waitUntil(timeout: .seconds(5)) { gate.waiting == 1 })
        let third = Task { let ok = await gate.acquire(); order.withLock { $0.append("third") }; return ok }
        #expect(await waitUntil(timeout: .seconds(5)) { gate.waiting == 2 })
        cancelled.cancel()
        #expect(await cancelled.value == false)
        gate.release()
        #expect(await third.value == true)
        #expect(order.withLock { $0 } == ["third"])
        gate.release()
        gate.release()
        // Two places free again: both taken at once.
        #expect(await gate.acquire())
        #expect(await gate.acquire())
        #expect(gate.waiting == 0)
    }
}
