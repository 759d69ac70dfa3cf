import Foundation
import StampedeCore
import StampedeMetrics
import StampedeWorkload
import Synchronization

/// What the coordinator knows about a worker besides its stats.
public struct WorkerInfo: Codable, Sendable, Equatable {
    public var host: String
    public var cores: Int
    /// Process CPU use over the last heartbeat period, percent of one core (nil when unknown).
    public var cpuPercent: Double?

    public init(host: String, cores: Int, cpuPercent: Double? = nil) {
        self.host = host
        self.cores = cores
        self.cpuPercent = cpuPercent
    }
}

/// The coordinator's handle on one worker. The in-process worker and the TCP worker both
/// implement it, so scheduling and merging have one code path for both transports.
public protocol WorkerLink: Sendable {
    var workerId: String { get }
    /// Starts the worker's load. `epoch` is the local instant of run-clock zero; deltas go to `sink`.
    func start(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, sink: any DeltaSink) async throws
    /// Changes the worker's share; stale generations are ignored by the worker.
    func update(_ share: WorkerShare, generation: Int) async throws
    /// Stops the load and returns once the worker's final delta has been delivered to the sink.
    func stop() async throws
    func info() async -> WorkerInfo
}

/// A worker in the coordinator's own process: `stampede run`.
public final class LocalWorkerLink: WorkerLink {
    public let workerId: String
    let generator: LoadGenerator
    /// The generator's run; Sendable as a Mutex-protected optional Task.
    let running = Mutex<Task<Void, any Error>?>(nil)

    public init(workerId: String = "local", executor: any RequestExecutor, intervalNs: Int64 = 1_000_000_000,
                clock: any EngineClock = .continuous, cpu: any CPUSource = ProcessCPU()) {
        self.workerId = workerId
        self.generator = LoadGenerator(workerId: workerId, executor: executor, intervalNs: intervalNs, clock: clock, cpu: cpu)
    }

    public func start(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, sink: any DeltaSink) async throws {
        // Fail here, not inside the task, when the workload cannot be built.
        _ = try PromptFactory(scenario: assignment.scenario)
        let generator = self.generator
        let task = Task { try await generator.run(assignment, epoch: epoch, sink: sink) }
        running.withLock { $0 = task }
    }

    public func update(_ share: WorkerShare, generation: Int) async throws {
        await generator.update(share, generation: generation)
    }

    public func stop() async throws {
        await generator.stop()
        let task = running.withLock { task in
            defer { task = nil }
            return task
        }
        try await task?.value
    }

    public func info() async -> WorkerInfo {
        WorkerInfo(host: ProcessInfo.processInfo.hostName, cores: ProcessInfo.processInfo.activeProcessorCount, cpuPercent: nil)
    }
}
