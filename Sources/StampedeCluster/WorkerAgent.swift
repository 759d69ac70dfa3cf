import Foundation
import Logging
import NIOCore
import NIOPosix
import StampedeCore
import StampedeEngine
import StampedeMetrics
import Synchronization

public struct WorkerAgentConfig: Sendable {
    public var host: String
    public var port: Int
    public var workerId: String
    public var token: String?
    public var maxLineBytes: Int = WireCodec.defaultMaxLineBytes
    public var heartbeatInterval: Duration = .seconds(1)
    /// Silence from the coordinator after which the worker stops its load and reconnects. Nil (the
    /// default): the coordinator's own heartbeat timeout from `welcome`, so that a pause one side
    /// survives, the other survives too.
    public var silenceTimeout: Duration?
    /// Random per process: tells the coordinator that a reconnect with this id is this same worker.
    public var instance: String = String(ClusterAuth.makeNonce().prefix(16))
    public var backoffInitial: Duration = .milliseconds(500)
    public var backoffMax: Duration = .seconds(10)
    /// Give up after this many failed connection attempts in a row (nil: never).
    public var maxConnectAttempts: Int?

    public init(host: String, port: Int, workerId: String, token: String? = nil) {
        self.host = host
        self.port = port
        self.workerId = workerId
        self.token = token
    }
}

/// Makes the request executor for a run, and how to shut it down afterwards.
public typealias ExecutorFactory = @Sendable (Scenario) -> (executor: any RequestExecutor, shutdown: @Sendable () async -> Void)

public struct WorkerAgentError: Error, CustomStringConvertible {
    public let description: String
}

/// `stampede worker`: connects to a coordinator (retrying with exponential backoff), runs the
/// assigned load with the engine, and stops that load as soon as the coordinator goes away.
public final class WorkerAgent: Sendable {
    let config: WorkerAgentConfig
    let logger: Logger
    let makeExecutor: ExecutorFactory

    public init(config: WorkerAgentConfig, logger: Logger, makeExecutor: @escaping ExecutorFactory) {
        self.config = config
        self.logger = logger
        self.makeExecutor = makeExecutor
    }

    enum SessionEnd { case quit, disconnected, retryLater }

    /// Serves runs until the coordinator says `quit`. Throws when rejected, or when
    /// `maxConnectAttempts` connection attempts in a row failed.
    public func run() async throws {
        var failures = 0
        var backoff = config.backoffInitial
        while !Task.isCancelled {
            let channel: NIOAsyncChannel<ClusterMessage, ClusterMessage>
            do {
                channel = try await connect()
            } catch {
                failures += 1
                if let max = config.maxConnectAttempts, failures >= max {
                    throw WorkerAgentError(description: "cannot reach the coordinator at \(config.host):\(config.port) after \(failures) attempts: \(error)")
                }
                logger.info("coordinator \(config.host):\(config.port) not reachable (\(error)); retrying in \(backoff.shortLabel)")
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, config.backoffMax)
                continue
            }
            failures = 0
            switch try await session(channel) {
            case .quit:
                logger.info("coordinator said quit")
                return
            case .disconnected:
                backoff = config.backoffInitial
                logger.warning("lost the coordinator; load stopped, reconnecting")
            case .retryLater:
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, config.backoffMax)
            }
        }
    }

    private func connect() async throws -> NIOAsyncChannel<ClusterMessage, ClusterMessage> {
        let maxLine = config.maxLineBytes
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: config.host, port: config.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Until `welcome` (whose sender the handshake then checks) only handshake messages are read.
                    let gate = ConnectionGate(preAuthTypes: ClusterMessage.workerPreAuthTypes, opensOn: "welcome")
                    try ClusterPipeline.configure(channel, maxLineBytes: maxLine, gate: gate)
                    return try NIOAsyncChannel<ClusterMessage, ClusterMessage>(wrappingChannelSynchronously: channel)
                }
            }
    }

    struct Silent: Error, CustomStringConvertible {
        let silence: Duration
        var description: String { "coordinator silent for \(silence.shortLabel)" }
    }

    private func session(_ channel: NIOAsyncChannel<ClusterMessage, ClusterMessage>) async throws -> SessionEnd {
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var messages = inbound.makeAsyncIterator()
                let clock = Mutex(ClockOffsetEstimator())
                let joined = try await handshake(&messages, outbound: outbound, clock: clock)
                let silence = config.silenceTimeout ?? .milliseconds(joined.timeoutMs)
                return try await serve(&messages, outbound: outbound, clock: clock, silenceTimeout: silence, channel: channel.channel)
            }
        } catch let error as WorkerAgentError {
            throw error
        } catch let retry as Retry {
            logger.warning("\(retry.reason); retrying")
            return .retryLater
        } catch {
            logger.warning("connection to coordinator ended: \(error)")
            return .disconnected
        }
    }

    private func handshake(_ messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                           outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>,
                           clock: borrowing Mutex<ClockOffsetEstimator>) async throws -> WorkerHandshake.Joined {
        var machine = WorkerHandshake(workerId: config.workerId, token: config.token, instance: config.instance, version: StampedeVersion.current,
                                      host: ProcessInfo.processInfo.hostName, cores: ProcessInfo.processInfo.activeProcessorCount)
        let sent = ProcessClock.nowNs
        try await outbound.write(machine.hello)
        while true {
            guard let message = try await messages.next() else { throw ProtocolError.unexpected("connection closed during the handshake") }
            switch machine.receive(message) {
            case .send(let reply):
                try await outbound.write(reply)
            case .joined(let joined):
                clock.withLock { $0.add(sentNs: sent, peerNs: joined.runClockNs, receivedNs: ProcessClock.nowNs) }
                logger.info("joined coordinator \(config.host):\(config.port) as \(config.workerId)")
                return joined
            case .fail(let reason, retry: true):
                throw Retry(reason: reason)
            case .fail(let reason, retry: false):
                throw WorkerAgentError(description: reason)
            }
        }
    }

    /// A handshake that failed for a reason that may pass (the coordinator still holds this
    /// worker's old connection): reconnect with backoff.
    struct Retry: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    private func serve(_ messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                       outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>, clock: borrowing Mutex<ClockOffsetEstimator>,
                       silenceTimeout: Duration, channel: any Channel) async throws -> SessionEnd {
        let outbox = Outbox()
        let lastHeard = LastHeard()
        let cpu = Mutex(CPUMeter())
        let slot = RunSlot()
        let interval = config.heartbeatInterval
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await outbox.drain(into: outbound) }
            group.addTask {
                var heartbeat = Heartbeat(intervalNs: interval.nanoseconds, timeoutNs: silenceTimeout.nanoseconds)
                while true {
                    switch heartbeat.next(atNs: ProcessClock.nowNs, lastHeardNs: lastHeard.lastNs) {
                    case .ping:
                        outbox.send(.ping(t: ProcessClock.nowNs))
                    case .sleep(let untilNs):
                        try await Task.sleep(until: ProcessClock.instant(ofNs: untilNs), clock: .continuous)
                    case .timeout(let silenceNs):
                        // Closing the channel ends the reader, which cancels the run: load stops now.
                        let silent = Silent(silence: .nanoseconds(silenceNs))
                        self.logger.warning("\(silent); stopping load")
                        channel.close(promise: nil)
                        throw silent
                    }
                }
            }
            defer { group.cancelAll() }
            while let message = try await messages.next() {
                lastHeard.touch()
                switch message {
                case .start(let assignment, let epochNs):
                    try refuseSecretReuse(assignment.scenario)
                    let offset = clock.withLock { $0.offsetNs }
                    // Both are range-checked on the wire (|epochNs|, |offset| ≤ 2^62), so this cannot overflow.
                    let epoch = ProcessClock.instant(ofNs: epochNs - offset)
                    group.addTask { await self.runAssignment(assignment, epoch: epoch, outbox: outbox, slot: slot) }
                case .setUsers(let generation, let share):
                    await slot.update(share, generation: generation)
                case .stop:
                    await slot.stop()
                case .stoppedAck(_, let lastSeq):
                    logger.debug("coordinator acknowledged stats up to seq \(lastSeq)")
                case .ping(let t):
                    outbox.send(.pong(t: t, now: ProcessClock.nowNs, cpu: cpu.withLock { $0.sample() }))
                case .pong(let t, let now, _):
                    clock.withLock { $0.add(sentNs: t, peerNs: now, receivedNs: ProcessClock.nowNs) }
                case .quit:
                    await slot.stop()
                    return .quit
                case .error(let reason):
                    throw ProtocolError.unexpected("coordinator reported: \(reason)")
                default:
                    throw ProtocolError.unexpected("'\(message.type)' is not sent by coordinators")
                }
            }
            return .disconnected
        }
    }

    /// A coordinator may name any environment variable as the API key's; never the one that holds
    /// the cluster token, which would send the token to the target.
    private func refuseSecretReuse(_ scenario: Scenario) throws {
        guard let token = config.token, ProcessInfo.processInfo.environment[scenario.apiKeyEnv] == token else { return }
        throw WorkerAgentError(description: "refusing a run whose API key variable \(scenario.apiKeyEnv) holds the cluster token")
    }

    private func runAssignment(_ assignment: WorkerAssignment, epoch: ContinuousClock.Instant, outbox: Outbox, slot: RunSlot) async {
        let (executor, shutdown) = makeExecutor(assignment.scenario)
        let generator = LoadGenerator(workerId: config.workerId, executor: executor)
        let sink = ConnectionSink(outbox: outbox)
        guard await slot.begin(generator, generation: assignment.generation) else {
            logger.warning("ignoring start: a run is already in progress")
            await shutdown()
            return
        }
        logger.info("run \(assignment.runId.prefix(8)): \(assignment.share.users) users at \(assignment.share.spawnRate)/s")
        let streams = assignment.scenario.openLoop == nil ? assignment.share.users : assignment.share.maxInFlight ?? 0
        if let line = OpenFileLimit.shortfall(users: streams, limit: OpenFileLimit.raise()) { logger.warning("\(line)") }
        do {
            try await generator.run(assignment, epoch: epoch, sink: sink)
        } catch {
            logger.error("run failed: \(error)")
        }
        await slot.end()
        // Confirm the stop before the client shuts down: a connection attempt still in progress (a
        // target that never accepts) holds the shutdown until its connect timeout.
        outbox.send(.stopped(runId: assignment.runId, lastSeq: sink.lastSeq ?? 0))
        await shutdown()
    }
}

/// The current run of a worker connection, if any.
actor RunSlot {
    private var generator: LoadGenerator?

    func begin(_ generator: LoadGenerator, generation: Int) -> Bool {
        guard self.generator == nil else { return false }
        self.generator = generator
        return true
    }

    func end() { generator = nil }

    func update(_ share: WorkerShare, generation: Int) async {
        await generator?.update(share, generation: generation)
    }

    func stop() async { await generator?.stop() }
}

/// Sends a worker's deltas over its connection: raw records first (in chunks), then the stats.
final class ConnectionSink: DeltaSink {
    let outbox: Outbox
    private let last = Mutex<UInt64?>(nil)
    static let recordsPerMessage = 500

    init(outbox: Outbox) { self.outbox = outbox }

    var lastSeq: UInt64? { last.withLock { $0 } }

    func deliver(_ delta: IntervalDelta) async {
        var delta = delta
        var start = 0
        while start < delta.records.count {
            let end = min(start + Self.recordsPerMessage, delta.records.count)
            outbox.send(.records(seq: delta.seq, records: Array(delta.records[start..<end])))
            start = end
        }
        delta.records = []
        outbox.send(.stats(delta))
        last.withLock { $0 = delta.seq }
    }
}

public enum StampedeVersion {
    public static let current = "0.1.0"
}
