import StampedeClient
import StampedeCore
import StampedeMetrics
import StampedeWorkload

/// Sends one planned request and returns its record. `StreamingClient` is the real one; tests may fake it.
public protocol RequestExecutor: Sendable {
    func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord
}

extension StreamingClient: RequestExecutor {}

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
    public func run(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, sink: any DeltaSink) async throws {
        let prompts = try PromptFactory(scenario: assignment.scenario)
        let state = WorkerRunState(workerId: workerId, share: assignment.share, generation: assignment.generation,
                                   collectRecords: assignment.scenario.collectRecords)
        self.state = state
        self.generation = assignment.generation
        self.stopRequested = false
        let (deltas, emitter) = AsyncStream.makeStream(of: IntervalDelta.self)
        async let delivered: Void = Self.deliverAll(deltas, to: sink)

        try? await Task.sleep(until: epoch.advanced(by: .nanoseconds(assignment.startAtNs)), clock: .continuous)
        let executor = self.executor
        let intervalNs = self.intervalNs
        await withDiscardingTaskGroup { group in
            group.addTask {
                await Self.tick(state: state, epoch: epoch, intervalNs: intervalNs, emitter: emitter)
            }
            var nextSpawn = ContinuousClock.now
            while !stopRequested, !Task.isCancelled {
                let plan = state.inner.withLock { s -> (index: Int?, rate: Double, userBase: Int) in
                    let spent = s.share.requestBudget.map { s.ticketsTaken >= $0 } ?? false
                    guard !spent, s.alive.count < s.share.users else { return (nil, s.share.spawnRate, s.share.userBase) }
                    let index = (0..<s.share.users).first { !s.alive.contains($0) }
                    return (index, s.share.spawnRate, s.share.userBase)
                }
                let now = ContinuousClock.now
                if let index = plan.index, now >= nextSpawn {
                    state.inner.withLock { _ = $0.alive.insert(index) }
                    group.addTask {
                        await Self.user(index, state: state, executor: executor, prompts: prompts, epoch: epoch)
                    }
                    nextSpawn = max(now, nextSpawn) + .nanoseconds(Int64(1e9 / max(plan.rate, 1e-6)))
                    continue
                }
                if plan.index == nil { nextSpawn = max(nextSpawn, now) }
                if state.budgetSpentAndIdle, !state.inner.withLock({ $0.exhaustedReported }) {
                    Self.emit(state: state, epoch: epoch, intervalNs: intervalNs, final: false, to: emitter)
                }
                let wake = plan.index != nil ? min(nextSpawn, now + .milliseconds(50)) : now + .milliseconds(50)
                try? await Task.sleep(until: wake, clock: .continuous)
            }
            state.inner.withLock { $0.stopping = true }
            group.cancelAll()
        }
        Self.emit(state: state, epoch: epoch, intervalNs: intervalNs, final: true, to: emitter)
        emitter.finish()
        await delivered
        self.state = nil
    }

    /// Applies a new share if `generation` is newer than the current one. Returns false for a stale one.
    @discardableResult
    public func update(_ share: WorkerShare, generation: Int) -> Bool {
        guard generation > self.generation, let state else { return false }
        self.generation = generation
        state.inner.withLock { $0.share = share; $0.generation = generation }
        return true
    }

    /// Stops the load: no new requests, in-flight requests are cancelled and not counted.
    public func stop() {
        stopRequested = true
        state?.inner.withLock { $0.stopping = true }
    }

    public var isRunning: Bool { state != nil }

    // MARK: Tasks

    private static func user(_ index: Int, state: WorkerRunState, executor: any RequestExecutor, prompts: PromptFactory,
                             epoch: ContinuousClock.Instant) async {
        defer { state.inner.withLock { _ = $0.alive.remove(index) } }
        var requestIndex: UInt64 = 0
        while !Task.isCancelled, state.shouldRun(index) {
            let ticket = state.beginRequest()
            guard ticket.ok else { break }
            let globalUser = state.inner.withLock { $0.share.userBase } + index
            let prompt = prompts.make(requestIndex: requestIndex, user: globalUser)
            let planned = PlannedRequest(prompt: prompt.prompt, maxTokens: prompt.maxTokens,
                                         inputTokensEstimate: prompt.inputTokensEstimate, expectedNumber: prompt.expectedNumber)
            let scheduled = epoch.duration(to: .now).nanoseconds
            var record = await executor.execute(planned, scheduledNs: scheduled, epoch: epoch)
            if Task.isCancelled {
                state.endRequest(nil)
                break
            }
            record.user = globalUser
            record.stage = ticket.stage
            if record.succeeded { record.sloMet = prompts.scenario.slo?.isMet(by: record) }
            record.costMicroUSD = prompts.scenario.pricing?.costMicroUSD(of: record)
            state.endRequest(record)
            requestIndex += 1
        }
    }

    private static func tick(state: WorkerRunState, epoch: ContinuousClock.Instant, intervalNs: Int64,
                             emitter: AsyncStream<IntervalDelta>.Continuation) async {
        var index = Int(max(0, epoch.duration(to: .now).nanoseconds) / intervalNs)
        while !Task.isCancelled {
            let boundary = epoch.advanced(by: .nanoseconds(Int64(index + 1) * intervalNs))
            do { try await Task.sleep(until: boundary, clock: .continuous) } catch { return }
            emit(state: state, epoch: epoch, intervalNs: intervalNs, final: false, to: emitter)
            index = Int(max(0, epoch.duration(to: .now).nanoseconds) / intervalNs)
        }
    }

    /// Cuts a delta and queues it, under the state's lock, so deltas leave in `seq` order.
    private static func emit(state: WorkerRunState, epoch: ContinuousClock.Instant, intervalNs: Int64, final: Bool,
                             to emitter: AsyncStream<IntervalDelta>.Continuation) {
        // The interval is the one the cut closes: a cut just after boundary k+1 reports interval k.
        let now = max(0, epoch.duration(to: .now).nanoseconds - 1_000_000)
        let interval = Int(now / intervalNs)
        let start = Int64(interval) * intervalNs
        state.cut(interval: interval, startNs: start, endNs: start + intervalNs, final: final, to: emitter)
    }

    private static func deliverAll(_ deltas: AsyncStream<IntervalDelta>, to sink: any DeltaSink) async {
        for await delta in deltas { await sink.deliver(delta) }
    }
}
