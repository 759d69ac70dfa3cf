import Foundation
@testable import StampedeMock
import StampedeTestSupport
import Testing

@Suite("The mock's deadline heap (plain numbers)")
struct DeadlineHeapTests {
    @Test("pops due ids earliest first, ties in insertion order, and nothing not yet due")
    func popDueOrder() {
        var heap = DeadlineHeap<Int>()
        for (id, deadline) in [(1, 50), (2, 10), (3, 30), (4, 10), (5, 70), (6, 20)] {
            heap.insert(UInt64(id), deadline: deadline)
        }
        #expect(heap.count == 6)
        #expect(heap.nextDeadline == 10)
        let none = heap.popDue(now: 9)
        #expect(none.isEmpty)
        let first = heap.popDue(now: 30)
        #expect(first == [2, 4, 6, 3])
        #expect(heap.nextDeadline == 50)
        let rest = heap.popDue(now: 100)
        #expect(rest == [1, 5])
        #expect(heap.isEmpty && heap.nextDeadline == nil)
    }

    @Test("cancel removes the entry at once (no leak); cancelling twice or an unknown id is a no-op")
    func cancelRemoves() {
        var heap = DeadlineHeap<Int>()
        for id in 0..<100 { heap.insert(UInt64(id), deadline: (id * 37) % 101) }
        for id in stride(from: 0, to: 100, by: 2) {
            let removed = heap.cancel(UInt64(id))
            #expect(removed)
        }
        let again = heap.cancel(0), unknown = heap.cancel(1000)
        #expect(!again && !unknown)
        #expect(heap.count == 50)
        #expect(!heap.contains(4) && heap.contains(5))
        let due = heap.popDue(now: 1000)
        #expect(due.count == 50)
        #expect(due.allSatisfy { $0 % 2 == 1 })
        let deadlines = due.map { (Int($0) * 37) % 101 }
        #expect(deadlines == deadlines.sorted())
        #expect(heap.isEmpty)
    }

    @Test("re-inserting an id moves it; removeAll empties the heap")
    func reinsertAndRemoveAll() {
        var heap = DeadlineHeap<Int>()
        heap.insert(1, deadline: 5)
        heap.insert(2, deadline: 6)
        heap.insert(1, deadline: 9)
        #expect(heap.count == 2)
        let due = heap.popDue(now: 6)
        #expect(due == [2])
        let all = heap.removeAll()
        #expect(Set(all) == [1])
        let after = heap.popDue(now: 100)
        #expect(heap.isEmpty && after.isEmpty)
    }

    @Test("random inserts and cancels match a sorted reference")
    func matchesReference() {
        var rng = SystemRandomNumberGenerator()
        var heap = DeadlineHeap<Int>()
        var reference: [UInt64: Int] = [:]
        for step in 0..<5000 {
            let id = UInt64.random(in: 0..<300, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                let deadline = step + Int.random(in: 0..<500, using: &rng)
                heap.insert(id, deadline: deadline)
                reference[id] = deadline
            case 6..<8:
                let removed = heap.cancel(id)
                #expect(removed == (reference.removeValue(forKey: id) != nil))
            default:
                let due = heap.popDue(now: step)
                let expected = reference.filter { $0.value <= step }
                #expect(Set(due) == Set(expected.keys))
                #expect(due.map { reference[$0]! } == due.map { reference[$0]! }.sorted())
                for id in due { reference.removeValue(forKey: id) }
            }
            #expect(heap.count == reference.count)
            #expect(heap.nextDeadline == reference.values.min())
        }
    }
}

@Suite("The mock's shared deadline scheduler")
struct DeadlineSchedulerTests {
    @Test("a cancelled waiter is removed from the scheduler and resumed with CancellationError")
    func cancelledWaiterLeavesNoEntry() async throws {
        let scheduler = DeadlineScheduler()
        let waiter = Task { try await scheduler.sleep(until: .now + .seconds(60)) }
        #expect(await waitUntil(timeout: .seconds(5)) { await scheduler.pending == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await waitUntil(timeout: .seconds(5)) { await scheduler.pending == 0 })
    }

    @Test("shutdown resumes every waiter with CancellationError; later sleeps throw at once")
    func shutdownResumesAll() async throws {
        let scheduler = DeadlineScheduler()
        let waiters = (0..<50).map { k in Task { try await scheduler.sleep(until: .now + .seconds(60 + k)) } }
        #expect(await waitUntil(timeout: .seconds(5)) { await scheduler.pending == 50 })
        await scheduler.shutdown()
        for waiter in waiters {
            await #expect(throws: CancellationError.self) { try await withTimeout(.seconds(10)) { try await waiter.value } }
        }
        #expect(await scheduler.pending == 0)
        await #expect(throws: CancellationError.self) { try await scheduler.sleep(until: .now + .seconds(1)) }
    }

    @Test("waiters wake in deadline order, a later insert of an earlier deadline re-arms the timer")
    func wakesInOrder() async throws {
        let scheduler = DeadlineScheduler()
        let order = OrderLog()
        let start = ContinuousClock.now
        // Far apart, so that a loaded machine (parallel suites) cannot blur the order or the pending count.
        let late = Task { try await scheduler.sleep(until: start + .seconds(3)); await order.append(2) }
        #expect(await waitUntil(timeout: .seconds(5)) { await scheduler.pending == 1 })
        let early = Task { try await scheduler.sleep(until: start + .milliseconds(50)); await order.append(1) }
        try await early.value
        // Woken by its own timer, not with the late one: that one is still waiting.
        #expect(await scheduler.pending == 1)
        try await late.value
        #expect(await order.items == [1, 2])
        #expect(await scheduler.pending == 0)
    }
}

private actor OrderLog {
    var items: [Int] = []
    func append(_ item: Int) { items.append(item) }
}
