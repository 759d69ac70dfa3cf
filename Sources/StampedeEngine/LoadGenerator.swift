import StampedeCore
import StampedeMetrics
import StampedeWorkload

/// Where a worker's interval deltas go: the coordinator in-process, or the TCP connection to it.
public protocol DeltaSink: Sendable {
    func deliver(_ delta: IntervalDelta) async
}

/// The worker side of the engine: drives a `WorkerMachine` (closed-loop users or open-loop
/// arrivals) and emits one `IntervalDelta` per interval of the run clock, plus a final one when it stops.
///
/// A thin driver: every decision is the machine's. It sleeps only until the next deadline the
/// machine names (the next spawn, the next arrival, the next interval boundary) or until an event
/// wakes it (a new share, stop, a request that ended): no polling.
public actor LoadGenerator {
    public nonisolated let workerId: String
    let executor: any RequestExecutor
    let intervalNs: Int64
    let clock: any EngineClock
    let cpu: any CPUSource
    private var cell: WorkerCell?
    /// Run-clock zero of the current run on `clock`.
    private var epochNs: Int64 = 0

    /// A user that hit a `resource` error waits this long before its next request, doubling from the
    /// lower bound up to the upper one while the errors last.
    static let resourceBackoffNs: ClosedRange<Int64> = 50_000_000...2_000_000_000

    /// The loop-lag timer's period (the generator self-check).
    static let loopLagPeriodNs: Int64 = 10_000_000

    public init(workerId: String, executor: any RequestExecutor, intervalNs: Int64 = 1_000_000_000, clock: any EngineClock = .continuous,
                cpu: any CPUSource = ProcessCPU()) {
        self.workerId = workerId
        self.executor = executor
        self.intervalNs = intervalNs
        self.clock = clock
        self.cpu = cpu
    }

    /// Runs one assignment until `stop()` is called or the task is cancelled. `epoch` is the local
    /// instant of run-clock zero. Returns after the final delta was handed to `sink`.
    ///
    /// A closed loop (no `scenario.openLoop`) runs `share.users` users; an open loop sends this worker's
    /// arrivals of the global schedule (see `ArrivalSchedule`), one task per arrival.
    public func run(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, sink: any DeltaSink) async throws {
        let prompts = try PromptFactory(scenario: assignment.scenario)
        let (deltas, emitter) = AsyncStream.makeStream(of: IntervalDelta.self)
        let machine = WorkerMachine(workerId: workerId, share: assignment.share, generation: assignment.generation,
                                    collectRecords: assignment.scenario.collectRecords, intervalNs: intervalNs)
        let cell = WorkerCell(machine: machine, emitter: emitter)
        self.cell = cell
        self.epochNs = clock.ns(of: epoch)
        async let delivered: Void = Self.deliverAll(deltas, to: sink)

        let context = Context(cell: cell, executor: executor, prompts: prompts, clock: clock, cpu: cpu, epoch: epoch,
                              epochNs: clock.ns(of: epoch), plan: StagePlan(scenario: assignment.scenario), intervalNs: intervalNs,
                              outputLength: OutputLengthCheck(scenario: assignment.scenario))
        // The load starts at `startAtNs` on the run clock; a stop before then ends the run at once.
        while context.runNs < assignment.startAtNs, !cell.stopping, !Task.isCancelled {
            await cell.wakeup.wait(untilNs: context.epochNs &+ assignment.startAtNs, on: clock)
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await Self.tick(context: context) }
            group.addTask { await Self.watchLoopLag(context: context) }
            if let open = assignment.scenario.openLoop {
                await Self.openLoop(open, startAtNs: assignment.startAtNs, context: context, group: &group)
            } else {
                await Self.closedLoop(context: context, group: &group)
            }
            cell.stop(atNs: context.runNs)
            group.cancelAll()
        }
        cell.cut(throughNs: context.runNs, final: true)
        emitter.finish()
        await delivered
        self.cell = nil
    }

    /// What the load tasks of one run share.
    struct Context: Sendable {
        let cell: WorkerCell
        let executor: any RequestExecutor
        let prompts: PromptFactory
        let clock: any EngineClock
        let cpu: any CPUSource
        let epoch: ContinuousClock.Instant
        /// Run-clock zero on `clock`.
        let epochNs: Int64
        let plan: StagePlan
        let intervalNs: Int64
        let outputLength: OutputLengthCheck

        /// Now on the run clock.
        var runNs: Int64 { clock.nowNs &- epochNs }
    }

    /// Applies a new share if `generation` is newer than the current one. Returns false for a stale one.
    @discardableResult
    public func update(_ share: WorkerShare, generation: Int) -> Bool {
        cell?.update(share, generation: generation) ?? false
    }

    /// Stops the load: no new requests; in-flight requests are cancelled and not counted as finished, but
    /// their time in flight up to now counts in the busy time (achieved concurrency).
    public func stop() {
        cell?.stop(atNs: clock.nowNs &- epochNs)
    }

    public var isRunning: Bool { cell != nil }

    // MARK: Loops

    /// Users started before the spawning loop lets other tasks run.
    static let spawnBatch = 64

    /// Closed loop: starts users when the machine says so, and otherwise waits for the next spawn
    /// or for an event (a share with more users, stop).
    private static func closedLoop(context: Context, group: inout DiscardingTaskGroup) async {
        let cell = context.cell
        var spawnedInARow = 0
        while !Task.isCancelled {
            switch cell.nextSpawn(atNs: context.runNs) {
            case .spawn(let index):
                group.addTask { await Self.user(index, context: context) }
                // Suspend every `spawnBatch` spawns, so that `stop()` runs even while a million users
                // are due. A yield per spawn queued the loop behind every runnable task each time: a
                // busy process then started about 1,600 users a second where 2,000 were asked.
                spawnedInARow += 1
                if spawnedInARow >= Self.spawnBatch {
                    spawnedInARow = 0
                    await Task.yield()
                }
            case .wait(let untilNs):
                spawnedInARow = 0
                await cell.wakeup.wait(untilNs: context.epochNs &+ untilNs, on: context.clock)
            case .idle:
                if cell.stopping { return }
                cell.reportExhaustionIfDue(runNs: context.runNs)
                await cell.wakeup.wait(untilNs: nil, on: context.clock)
            }
        }
    }

    /// Open loop: walks the global arrival schedule in time order and sends this worker's arrivals,
    /// each in a task of its own. It stops taking arrivals at the end of the stages or the run time
    /// (the coordinator stops the run there) or when the request budget is spent, then waits for `stop`.
    private static func openLoop(_ open: OpenLoop, startAtNs: Int64, context: Context, group: inout DiscardingTaskGroup) async {
        let cell = context.cell
        let scenario = context.prompts.scenario
        var segments = cell.rateSegments
        var schedule = Self.schedule(scenario, plan: context.plan, segments: segments)
        let runEnd = scenario.runTimeSeconds.map { Int64(($0 * 1e9).rounded()) }
        let endNs = [context.plan.endNs, runEnd].compactMap { $0 }.min() ?? .max
        // A worker that joins mid-run skips the arrivals before its start (its partition begins later still);
        // one that starts with the run sends the arrivals already due at once (their lag shows in schedule_lag).
        schedule.skip(toNs: min(startAtNs, cell.effectiveAtNs))
        /// A change of rate (new segments): the same arrivals up to the change, the new rate's after it.
        func followRateChange(from index: UInt64) -> Bool {
            guard let changed = cell.rateSegments, changed != segments else { return false }
            segments = changed
            schedule = Self.schedule(scenario, plan: context.plan, segments: changed)
            schedule.skip(toIndex: index)
            return true
        }
        arrivals: while !cell.stopping, !Task.isCancelled {
            var next = schedule.next()
            // Arrivals already due go out at once; a stop or a new share wakes the wait. One past the end
            // waits for the stop, or for a change of rate that brings the next arrival back in.
            while !cell.stopping, !Task.isCancelled, next.timeNs >= endNs || context.runNs < next.timeNs {
                await cell.wakeup.wait(untilNs: next.timeNs < endNs ? context.epochNs &+ next.timeNs : nil, on: context.clock)
                if followRateChange(from: next.index) { next = schedule.next() }
            }
            guard !cell.stopping, !Task.isCancelled else { break }
            let arrival = next
            let stage = segments.map { ArrivalSchedule.segmentIndex($0, atNs: arrival.timeNs) } ?? context.plan.stageIndex(atNs: arrival.timeNs)
            switch cell.admitArrival(arrival.index, atNs: arrival.timeNs, stage: stage) {
            case .send:
                group.addTask { await Self.send(arrival, stage: stage, context: context) }
            case .notMine, .dropped:
                break
            case .spent:
                break arrivals
            }
            _ = followRateChange(from: arrival.index + 1)
        }
        while !cell.stopping, !Task.isCancelled {
            cell.reportExhaustionIfDue(runNs: context.runNs)
            await cell.wakeup.wait(untilNs: nil, on: context.clock)
        }
    }

    /// The global arrival schedule: the scenario's rate and stages, or the segments of a rate changed during the run.
    private static func schedule(_ scenario: Scenario, plan: StagePlan, segments: [RateSegment]?) -> ArrivalSchedule {
        guard let segments, let open = scenario.openLoop else { return ArrivalSchedule(scenario: scenario, plan: plan) }
        return ArrivalSchedule(seed: scenario.seed, process: open.arrival, burstiness: open.burstiness, segments: segments)
    }

    // MARK: Tasks

    private static func user(_ index: Int, context: Context) async {
        let cell = context.cell
        defer { cell.userEnded(index) }
        var requestIndex: UInt64 = 0
        var backoffNs: Int64 = 0
        while !Task.isCancelled, let ticket = cell.beginRequest(index) {
            let prompt = context.prompts.make(requestIndex: requestIndex, user: ticket.globalUser)
            let scheduled = context.runNs
            let stage = context.plan.isEmpty ? ticket.stage : context.plan.stageIndex(atNs: scheduled)
            let record = await execute(prompt, scheduledNs: scheduled, user: ticket.globalUser, stage: stage, context: context)
            cell.endRequest(record, stage: stage, beganNs: scheduled, runNs: context.runNs)
            guard let record else { break }
            requestIndex += 1
            // Out of descriptors or ports: retrying at once only fails again (and starves the rest), so back off.
            if record.errorClass == .resource {
                backoffNs = min(max(backoffNs * 2, resourceBackoffNs.lowerBound), resourceBackoffNs.upperBound)
                try? await context.clock.sleep(untilNs: context.clock.nowNs &+ backoffNs)
            } else {
                backoffNs = 0
            }
        }
    }

    /// One open-loop arrival: its prompt is a function of the global arrival number, so a split
    /// across workers sends the same requests as one process. Its latencies count from `arrival.timeNs`.
    private static func send(_ arrival: Arrival, stage: Int, context: Context) async {
        let prompt = context.prompts.make(requestIndex: arrival.index, user: -1)
        let began = context.runNs
        let record = await execute(prompt, scheduledNs: arrival.timeNs, user: Int(truncatingIfNeeded: arrival.index), stage: stage,
                                   context: context)
        context.cell.endRequest(record, stage: stage, beganNs: began, runNs: context.runNs)
    }

    /// Sends one request; nil when the task was cancelled (the run is stopping: not counted).
    private static func execute(_ prompt: PlannedPrompt, scheduledNs: Int64, user: Int, stage: Int, context: Context) async -> RequestRecord? {
        var record = await context.executor.execute(prompt, scheduledNs: scheduledNs, epoch: context.epoch)
        guard !Task.isCancelled else { return nil }
        record.user = user
        record.stage = stage
        let scenario = context.prompts.scenario
        context.outputLength.judge(&record)
        if record.succeeded { record.sloMet = scenario.slo?.isMet(by: record) }
        record.costMicroUSD = scenario.pricing?.costMicroUSD(of: record)
        return record
    }

    /// Cuts at every interval boundary of the run clock: boundary k+1 closes interval k. The index
    /// comes from the schedule, not from when the tick woke, so a late wake-up files nothing under
    /// the wrong second. Each cut carries the process's CPU share since the last one.
    private static func tick(context: Context) async {
        var index = Int(max(0, context.runNs) / context.intervalNs)
        let allowance = context.cpu.allowanceCores
        var meter = CPUShareMeter(cpuSeconds: context.cpu.processCPUSeconds(), atNs: context.clock.nowNs)
        while !Task.isCancelled {
            let boundary = context.epochNs &+ Int64(index + 1) &* context.intervalNs
            do { try await context.clock.sleep(untilNs: boundary) } catch { return }
            let share = meter.share(cpuSeconds: context.cpu.processCPUSeconds(), atNs: context.clock.nowNs, allowanceCores: allowance)
            context.cell.cut(through: index, final: false, cpu: (share, allowance))
            index += 1
        }
    }

    /// The event-loop lag: a timer due every 10 ms, and how late it woke. A generator short of CPU
    /// wakes late, and so do its chunk timestamps.
    private static func watchLoopLag(context: Context) async {
        var due = context.clock.nowNs &+ loopLagPeriodNs
        while !Task.isCancelled {
            do { try await context.clock.sleep(untilNs: due) } catch { return }
            let now = context.clock.nowNs
            context.cell.recordLoopLag(ns: now - due)
            due = now &+ loopLagPeriodNs
        }
    }

    private static func deliverAll(_ deltas: AsyncStream<IntervalDelta>, to sink: any DeltaSink) async {
        for await delta in deltas { await sink.deliver(delta) }
    }
}
