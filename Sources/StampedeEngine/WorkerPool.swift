import StampedeMetrics

/// What a transport tells the engine about its workers: `CoordinatorServer` calls these as
/// connections join, send stats and close. A `RunCoordinator` is one (a single run);
/// a `WorkerPool` is another (several runs in turn over the same connections: `stampede sweep`).
public protocol WorkerRoster: Sendable {
    func add(_ link: any WorkerLink) async
    func deliver(_ delta: IntervalDelta) async
    func lose(_ workerId: String, reason: String) async
}

extension RunCoordinator: WorkerRoster {}

/// Connected workers that outlive one run. Runs happen one at a time: `attach` hands every
/// connected worker to the run's coordinator, and workers that join or leave while it runs are
/// passed on to it; `detach` ends that. Stats that arrive between runs belong to no run and are
/// dropped (a worker sends its last stats before it confirms a stop, so none are expected).
public actor WorkerPool: WorkerRoster {
    private var links: [String: any WorkerLink] = [:]
    private var order: [String] = []
    private var current: RunCoordinator?

    public init() {}

    /// Workers connected now.
    public var count: Int { order.count }

    /// A worker id already in the pool is a rejoin: the new link replaces the old one.
    public func add(_ link: any WorkerLink) async {
        if links[link.workerId] == nil { order.append(link.workerId) }
        links[link.workerId] = link
        await current?.add(link)
    }

    public func lose(_ workerId: String, reason: String) async {
        guard links.removeValue(forKey: workerId) != nil else { return }
        order.removeAll { $0 == workerId }
        await current?.lose(workerId, reason: reason)
    }

    public func deliver(_ delta: IntervalDelta) async {
        await current?.deliver(delta)
    }

    /// Makes `coordinator` the current run and gives it every connected worker, in join order.
    public func attach(_ coordinator: RunCoordinator) async {
        current = coordinator
        for id in order {
            if let link = links[id] { await coordinator.add(link) }
        }
    }

    /// Ends the current run's hold on the workers (call after its `run()` returned).
    public func detach() {
        current = nil
    }
}
