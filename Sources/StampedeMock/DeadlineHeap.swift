/// The pure part of the mock's shared token clock (`DeadlineScheduler`): entries keyed by an id, each
/// with a deadline; insert, cancel and pop-due in O(log n). No clock, no I/O: the tests drive it with
/// plain numbers, the driver with `ContinuousClock.Instant`s.
///
/// An indexed binary min-heap: `positions` maps an id to its slot in `entries`, so that a cancelled
/// entry (a client that hung up) is removed at once instead of lingering until its deadline.
/// (swift-collections' `Heap` has no removal by key, and is not a dependency of this package.)
/// Entries with equal deadlines come out in insertion order (ties broken by a sequence number).
struct DeadlineHeap<Deadline: Comparable> {
    private struct Entry {
        let id: UInt64
        let deadline: Deadline
        let sequence: UInt64

        func isBefore(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && sequence < other.sequence)
        }
    }

    private var entries: [Entry] = []
    private var positions: [UInt64: Int] = [:]
    private var nextSequence: UInt64 = 0

    init() {}

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    /// The earliest deadline, nil when empty.
    var nextDeadline: Deadline? { entries.first?.deadline }

    func contains(_ id: UInt64) -> Bool { positions[id] != nil }

    /// Adds `id` due at `deadline`. An id already present is moved to the new deadline.
    mutating func insert(_ id: UInt64, deadline: Deadline) {
        _ = cancel(id)
        let entry = Entry(id: id, deadline: deadline, sequence: nextSequence)
        nextSequence &+= 1
        entries.append(entry)
        positions[id] = entries.count - 1
        siftUp(entries.count - 1)
    }

    /// Removes `id`. Returns whether it was there.
    @discardableResult
    mutating func cancel(_ id: UInt64) -> Bool {
        guard let index = positions.removeValue(forKey: id) else { return false }
        let last = entries.count - 1
        if index != last {
            entries.swapAt(index, last)
            positions[entries[index].id] = index
        }
        entries.removeLast()
        if index < entries.count {
            siftDown(index)
            siftUp(index)
        }
        return true
    }

    /// Removes and returns, earliest first, every id whose deadline is at or before `now`.
    mutating func popDue(now: Deadline) -> [UInt64] {
        var due: [UInt64] = []
        while let first = entries.first, first.deadline <= now {
            due.append(first.id)
            cancel(first.id)
        }
        return due
    }

    /// Removes and returns every id (shutdown), in no particular order.
    mutating func removeAll() -> [UInt64] {
        let ids = entries.map(\.id)
        entries.removeAll()
        positions.removeAll()
        return ids
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].isBefore(entries[parent]) else { return }
            swapEntries(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < entries.count, entries[left].isBefore(entries[first]) { first = left }
            if right < entries.count, entries[right].isBefore(entries[first]) { first = right }
            guard first != parent else { return }
            swapEntries(parent, first)
            parent = first
        }
    }

    private mutating func swapEntries(_ a: Int, _ b: Int) {
        entries.swapAt(a, b)
        positions[entries[a].id] = a
        positions[entries[b].id] = b
    }
}
