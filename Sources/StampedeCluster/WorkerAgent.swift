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
    /// Silence from the coordinator after which the worker stops its load and reconnects.
    public var silenceTimeout: Duration = .milliseconds(2500)
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

    enum SessionEnd { case quit, disconnected }

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
            backoff = config.backoffInitial
            switch try await session(channel) {
            case .quit:
                logger.info("coordinator said quit")
                return
            case .disconnected:
                logger.warning("lost the coordinator; load stopped, reconnecting")
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
                    try ClusterPipeline.configure(channel, maxLineBytes: maxLine)
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
                try await handshake(&messages, outbound: outbound, clock: clock)
                return try await serve(&messages, outbound: outbound, clock: clock, channel: channel.channel)
            }
        } catch let error as WorkerAgentError {
            throw error
        } catch {
            logger.warning("connection to coordinator ended: \(error)")
            return .disconnected
        }
    }

    private func handshake(_ messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                           outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>, clock: borrowing Mutex<ClockOffsetEstimator>) async throws {
        let sent = ProcessClock.nowNs
        try await outbound.write(.hello(workerId: config.workerId, version: StampedeVersion.current, host: ProcessInfo.processInfo.hostName,
                                        cores: ProcessInfo.processInfo.activeProcessorCount))
        var reply = try await messages.next()
        if case .challenge(let nonce)? = reply {
            guard let token = config.token else {
                throw WorkerAgentError(description: "the coordinator requires a cluster token; set STAMPEDE_TOKEN (or --token-env / --token-file)")
            }
            try await outbound.write(.auth(hmac: ClusterAuth.proof(token: token, nonce: nonce, workerId: config.workerId)))
            reply = try await messages.next()
        }
        switch reply {
        case .welcome(_, _, let coordinatorNs)?:
            clock.withLock { $0.add(sentNs: sent, peerNs: coordinatorNs, receivedNs: ProcessClock.nowNs) }
            logger.info("joined coordinator \(config.host):\(config.port) as \(config.workerId)")
        case .reject(let reason)?:
            throw WorkerAgentError(description: "coordinator rejected this worker: \(reason)")
        case nil:
            throw ProtocolError.unexpected("connection closed during the handshake")
        case let other?:
            throw ProtocolError.unexpected("'\(other.type)' during the handshake")
        }
    }

    private func serve(_ messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                       outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>, clock: borrowing Mutex<ClockOffsetEstimator>, channel: any Channel) async throws -> SessionEnd {
        let outbox = Outbox()
        let lastHeard = LastHeard()
        let cpu = Mutex(CPUMeter())
        let slot = RunSlot()
        let interval = config.heartbeatInterval
        let silenceTimeout = config.silenceTimeout
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await outbox.drain(into: outbound) }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    let silence = lastHeard.silence
                    if silence > silenceTimeout {
                        // Closing the channel ends the reader, which cancels the run: load stops now.
                        self.logger.warning("\(Silent(silence: silence)); stopping load")
                        channel.close(promise: nil)
                        throw Silent(silence: silence)
                    }
                    if await slot.pingDue(every: interval) { outbox.send(.ping(t: ProcessClock.nowNs)) }
                }
            }
            defer { group.cancelAll() }
            while let message = try await messages.next() {
                lastHeard.touch()
                switch message {
                case .start(let assignment, let epochNs):
                    let offset = clock.withLock { $0.offsetNs }
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
        do {
            try await generator.run(assignment, epoch: epoch, sink: sink)
        } catch {
            logger.error("run failed: \(error)")
        }
        await slot.end()
        await shutdown()
        outbox.send(.stopped(runId: assignment.runId, lastSeq: sink.lastSeq ?? 0))
    }
}

/// The current run of a worker connection, if any.
actor RunSlot {
    private var generator: LoadGenerator?
    private var lastPing = ContinuousClock.now - .seconds(3600)

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

    func pingDue(every interval: Duration) -> Bool {
        let now = ContinuousClock.now
        guard now - lastPing >= interval else { return false }
        lastPing = now
        return true
    }
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
