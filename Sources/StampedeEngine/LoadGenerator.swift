import StampedeCore
import StampedeMetrics
import StampedeWorkload

/// Where a worker's interval deltas go: the coordinator in-process, or the TCP connection to it.
public protocol DeltaSink: Sendable {
    func deliver(_ delta: IntervalDelta) async
}

/// The worker side of the engine: runs closed-loop users against the target and emits one
/// `IntervalDelta` per interval of the run clock, plus a final one when it stops.
public actor LoadGenerator {
    public nonisolated let workerId: String
    let executor: any RequestExecutor
    let intervalNs: Int64
    private var state: WorkerRunState?
    private var generation = -1
    private var stopRequested = false

    public init(workerId: String, executor: any RequestExecutor, intervalNs: Int64 = 1_000_000_000) {
        self.workerId = workerId
        self.executor = executor
        self.intervalNs = intervalNs
    }

    /// Runs one assignment until `stop()` is called or the task is cancelled. `epoch` is the local
    /// instant of run-clock zero. Returns after the final delta was handed to `sink`.
    ///
    /// A closed loop (no `scenario.openLoop`) runs `share.users` users; an open loop sends this worker's
    /// arrivals of the global schedule (see `ArrivalSchedule`), one task per arrival.
    public func run(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, sink: any DeltaSink) async throws {
        let prompts = try PromptFactory(scenario: assignment.scenario)
        let state = WorkerRunState(workerId: workerId, share: assignment.share, generation: assignment.generation,
                                   collectRecords: assignment.scenario.collectRecords, intervalNs: intervalNs)
        self.state = state
        self.generation = assignment.generation
        self.stopRequested = false
        let (deltas, emitter) = AsyncStream.makeStream(of: IntervalDelta.self)
        async let delivered: Void = Self.deliverAll(deltas, to: sink)

        try? await Task.sleep(until: epoch.advanced(by: .nanoseconds(assignment.startAtNs)), clock: .continuous)
        let context = Context(state: state, executor: executor, prompts: prompts, epoch: epoch,
                              plan: StagePlan(scenario: assignment.scenario), intervalNs: intervalNs)
        await withDiscardingTaskGroup { group in
            group.addTask {
                await Self.tick(state: state, epoch: epoch, intervalNs: context.intervalNs, emitter: emitter)
            }
            if let open = assignment.scenario.openLoop {
                await openLoop(open, startAtNs: assignment.startAtNs, context: context, emitter: emitter, group: &group)
            } else {
                await closedLoop(context: context, emitter: emitter, group: &group)
            }
            state.inner.withLock { $0.stopping = true }
            group.cancelAll()
        }
        Self.emit(state: state, epoch: epoch, intervalNs: intervalNs, final: true, to: emitter)
        emitter.finish()
        await delivered
        self.state = nil
    }

    /// What the load tasks of one run share.
    struct Context: Sendable {
        let state: WorkerRunState
        let executor: any RequestExecutor
        let prompts: PromptFactory
        let epoch: ContinuousClock.Instant
        let plan: StagePlan
        let intervalNs: Int64

        var nowNs: Int64 { epoch.duration(to: .now).nanoseconds }
    }

    /// Closed loop: keeps `share.users` users running, starting them at `share.spawnRate`.
    private func closedLoop(context: Context, emitter: AsyncStream<IntervalDelta>.Continuation, group: inout DiscardingTaskGroup) async {
        let state = context.state
        var nextSpawn = ContinuousClock.now
        while !stopRequested, !Task.isCancelled {
            let plan = state.inner.withLock { s -> (index: Int?, rate: Double) in
                let spent = s.share.requestBudget.map { s.ticketsTaken >= $0 } ?? false
                guard !spent, s.alive.count < s.share.users else { return (nil, s.share.spawnRate) }
                let index = (0..<s.share.users).first { !s.alive.contains($0) }
                return (index, s.share.spawnRate)
            }
            let now = ContinuousClock.now
            if let index = plan.index, now >= nextSpawn {
                state.inner.withLock { _ = $0.alive.insert(index) }
                group.addTask { await Self.user(index, context: context) }
                nextSpawn = max(now, nextSpawn) + .nanoseconds(Int64(min(1e9 / max(plan.rate, 1e-6), 3.6e12)))
                // Suspend between spawns, so that `stop()` (this actor's) runs even while a million users are due.
                await Task.yield()
                continue
            }
            if plan.index == nil { nextSpawn = max(nextSpawn, now) }
            reportExhaustion(context: context, emitter: emitter)
            let wake = plan.index != nil ? min(nextSpawn, now + .milliseconds(50)) : now + .milliseconds(50)
            try? await Task.sleep(until: wake, clock: .continuous)
        }
    }

    /// Open loop: walks the global arrival schedule in time order and sends this worker's arrivals,
    /// each in a task of its own. It stops taking arrivals at the end of the stages or the run time
    /// (the coordinator stops the run there) or when the request budget is spent, then waits for `stop`.
    private func openLoop(_ open: OpenLoop, startAtNs: Int64, context: Context, emitter: AsyncStream<IntervalDelta>.Continuation,
                          group: inout DiscardingTaskGroup) async {
        let scenario = context.prompts.scenario
        var schedule = ArrivalSchedule(scenario: scenario, plan: context.plan)
        let runEnd = scenario.runTimeSeconds.map { Int64(($0 * 1e9).rounded()) }
        let endNs = [context.plan.endNs, runEnd].compactMap { $0 }.min() ?? .max
        // A worker that joins mid-run skips the arrivals before its start (its partition begins later still);
        // one that starts with the run sends the arrivals already due at once (their lag shows in schedule_lag).
        schedule.skip(toNs: min(startAtNs, context.state.inner.withLock { $0.share.effectiveAtNs ?? 0 }))
        arrivals: while !stopRequested, !Task.isCancelled {
            let arrival = schedule.next()
            guard arrival.timeNs < endNs else { break }
            let due = context.epoch.advanced(by: .nanoseconds(arrival.timeNs))
            // Sleep in slices so that `stop` is seen within 50 ms; arrivals already due go out at once.
            while ContinuousClock.now < due, !stopRequested, !Task.isCancelled {
                try? await Task.sleep(until: min(due, .now + .milliseconds(50)), clock: .continuous)
            }
            guard !stopRequested, !Task.isCancelled else { break }
            let stage = context.plan.stageIndex(atNs: arrival.timeNs)
            switch context.state.admitArrival(arrival.index, atNs: arrival.timeNs, stage: stage) {
            case .send:
                group.addTask { await Self.send(arrival, stage: stage, context: context) }
            case .notMine, .dropped:
                continue
            case .spent:
                break arrivals
            }
        }
        while !stopRequested, !Task.isCancelled {
            reportExhaustion(context: context, emitter: emitter)
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Once the budget is spent and nothing is in flight, says so at once (the coordinator stops on it).
    private func reportExhaustion(context: Context, emitter: AsyncStream<IntervalDelta>.Continuation) {
        let state = context.state
        if state.budgetSpentAndIdle, !state.inner.withLock({ $0.exhaustedReported }) {
            Self.emit(state: state, epoch: context.epoch, intervalNs: context.intervalNs, final: false, to: emitter)
        }
    }

    /// Applies a new share if `generation` is newer than the current one. Returns false for a stale one.
    @discardableResult
    public func update(_ share: WorkerShare, generation: Int) -> Bool {
        guard generation > self.generation, let state else { return false }
        self.generation = generation
        state.update(share, generation: generation)
        return true
    }

    /// Stops the load: no new requests, in-flight requests are cancelled and not counted.
    public func stop() {
        stopRequested = true
        state?.inner.withLock { $0.stopping = true }
    }

    public var isRunning: Bool { state != nil }

    // MARK: Tasks

    private static func user(_ index: Int, context: Context) async {
        let state = context.state
        defer { state.inner.withLock { _ = $0.alive.remove(index) } }
        var requestIndex: UInt64 = 0
        while !Task.isCancelled, state.shouldRun(index) {
            let ticket = state.beginRequest()
            guard ticket.ok else { break }
            let globalUser = state.inner.withLock { $0.share.userBase } + index
            let prompt = context.prompts.make(requestIndex: requestIndex, user: globalUser)
            let scheduled = context.nowNs
            let stage = context.plan.isEmpty ? ticket.stage : context.plan.stageIndex(atNs: scheduled)
            let record = await execute(prompt, scheduledNs: scheduled, user: globalUser, stage: stage, context: context)
            state.endRequest(record)
            guard record != nil else { break }
            requestIndex += 1
        }
    }

    /// One open-loop arrival: its prompt is a function of the global arrival number, so a split
    /// across workers sends the same requests as one process. Its latencies count from `arrival.timeNs`.
    private static func send(_ arrival: Arrival, stage: Int, context: Context) async {
        let prompt = context.prompts.make(requestIndex: arrival.index, user: -1)
        let record = await execute(prompt, scheduledNs: arrival.timeNs, user: Int(truncatingIfNeeded: arrival.index), stage: stage,
                                   context: context)
        context.state.endRequest(record)
    }

    /// Sends one request; nil when the task was cancelled (the run is stopping: not counted).
    private static func execute(_ prompt: PlannedPrompt, scheduledNs: Int64, user: Int, stage: Int, context: Context) async -> RequestRecord? {
        var record = await context.executor.execute(prompt, scheduledNs: scheduledNs, epoch: context.epoch)
        guard !Task.isCancelled else { return nil }
        record.user = user
        record.stage = stage
        let scenario = context.prompts.scenario
        if record.succeeded { record.sloMet = scenario.slo?.isMet(by: record) }
        record.costMicroUSD = scenario.pricing?.costMicroUSD(of: record)
        return record
    }

    /// Cuts at every interval boundary of the run clock: boundary k+1 closes interval k. The index
    /// comes from the schedule, not from when the tick woke, so a late wake-up files nothing under
    /// the wrong second.
    private static func tick(state: WorkerRunState, epoch: ContinuousClock.Instant, intervalNs: Int64,
                             emitter: AsyncStream<IntervalDelta>.Continuation) async {
        var index = state.interval(ofNs: epoch.duration(to: .now).nanoseconds)
        while !Task.isCancelled {
            let boundary = epoch.advanced(by: .nanoseconds(Int64(index + 1) * intervalNs))
            do { try await Task.sleep(until: boundary, clock: .continuous) } catch { return }
            state.cut(through: index, final: false, to: emitter)
            index += 1
        }
    }

    /// Cuts now: everything up to the current interval (and, when `final`, everything pending).
    private static func emit(state: WorkerRunState, epoch: ContinuousClock.Instant, intervalNs: Int64, final: Bool,
                             to emitter: AsyncStream<IntervalDelta>.Continuation) {
        state.cut(through: state.interval(ofNs: epoch.duration(to: .now).nanoseconds), final: final, to: emitter)
    }

    private static func deliverAll(_ deltas: AsyncStream<IntervalDelta>, to sink: any DeltaSink) async {
        for await delta in deltas { await sink.deliver(delta) }
    }
}
