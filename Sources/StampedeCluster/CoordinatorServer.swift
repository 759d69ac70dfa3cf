import Logging
import NIOCore
import NIOPosix
import StampedeCore
import StampedeEngine
import StampedeMetrics
import Synchronization

public struct ClusterServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 5557
    /// The cluster token; nil allows loopback binding only.
    public var token: String?
    public var maxWorkers: Int = 256
    public var maxLineBytes: Int = WireCodec.defaultMaxLineBytes
    public var heartbeatInterval: Duration = .seconds(1)
    public var heartbeatTimeout: Duration = .seconds(5)
    public var handshakeTimeout: Duration = .seconds(10)
    /// Connections still in their handshake at once; more are closed at accept. Together with the
    /// pre-authentication byte limit this bounds what unauthenticated peers can make us hold.
    public var maxPendingHandshakes: Int = 64
    /// Raw records a worker may send ahead of the `stats` that carries them.
    public var maxPendingRecords: Int = 50_000

    public init() {}
}

public struct ClusterServerError: Error, CustomStringConvertible {
    public let description: String
}

/// The coordinator's TCP side: accepts workers, authenticates them, turns each into a
/// `RemoteWorkerLink` of its roster (the run's `RunCoordinator`, or a sweep's `WorkerPool`), and watches their heartbeats.
public final class CoordinatorServer: Sendable {
    public let port: Int
    let config: ClusterServerConfig
    /// Where joins, stats and losses go: a `RunCoordinator` (one run) or a `WorkerPool` (a sweep's runs).
    let roster: any WorkerRoster
    let logger: Logger
    let links = Mutex<[String: RemoteWorkerLink]>([:])
    let acceptTask: Mutex<Task<Void, Never>?> = Mutex(nil)
    let pendingHandshakes = Atomic<Int>(0)
    let serverChannel: any Channel

    private init(port: Int, config: ClusterServerConfig, roster: any WorkerRoster, logger: Logger, serverChannel: any Channel) {
        self.port = port
        self.config = config
        self.roster = roster
        self.logger = logger
        self.serverChannel = serverChannel
    }

    /// Binds and starts accepting workers in the background.
    public static func start(config: ClusterServerConfig, roster: any WorkerRoster, logger: Logger) async throws -> CoordinatorServer {
        if config.token == nil, !isLoopback(config.host) {
            throw ClusterServerError(description: "--bind \(config.host): without a cluster token the coordinator binds to loopback only; set STAMPEDE_TOKEN (or --token-env / --token-file)")
        }
        let maxLine = config.maxLineBytes
        let listener: NIOAsyncChannel<Connection, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(host: config.host, port: config.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let gate = ConnectionGate(preAuthTypes: ClusterMessage.coordinatorPreAuthTypes)
                        try ClusterPipeline.configure(channel, maxLineBytes: maxLine, gate: gate)
                        return Connection(channel: try NIOAsyncChannel<ClusterMessage, ClusterMessage>(wrappingChannelSynchronously: channel), gate: gate)
                    }
                }
        } catch {
            throw ClusterServerError(description: "cannot listen on \(config.host):\(config.port): \(SocketErrorText.describe(error))")
        }
        let port = listener.channel.localAddress?.port ?? config.port
        let server = CoordinatorServer(port: port, config: config, roster: roster, logger: logger, serverChannel: listener.channel)
        if config.token == nil {
            logger.notice("no cluster token set: listening on loopback only, workers are not authenticated")
        }
        let task = Task<Void, Never> {
            try? await listener.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in inbound {
                            // Bounded: past the limit a new connection is closed before anything is read from it.
                            guard server.pendingHandshakes.wrappingAdd(1, ordering: .relaxed).newValue <= config.maxPendingHandshakes else {
                                server.pendingHandshakes.wrappingSubtract(1, ordering: .relaxed)
                                server.logger.debug("too many connections in their handshake; closing one from \(connection.channel.channel.remoteAddress.map { "\($0)" } ?? "?")")
                                // Closed through executeThenClose, which finishes its writer: dropping an NIOAsyncChannel
                                // unfinished traps ("Deinited NIOAsyncWriter without calling finish()"), so a burst of
                                // connections past the limit (200 workers at once) crashed the coordinator.
                                group.addTask { try? await connection.channel.executeThenClose { _, _ in } }
                                continue
                            }
                            group.addTask { await server.serve(connection) }
                        }
                    } catch {
                        logger.warning("listener stopped: \(error)")
                    }
                }
            }
        }
        server.acceptTask.withLock { $0 = task }
        return server
    }

    /// Sends `quit` to every connected worker (unless `quitWorkers` is false) and closes the listener.
    public func shutdown(quitWorkers: Bool) async {
        let all = links.withLock { Array($0.values) }
        for link in all {
            if quitWorkers { link.outbox.send(.quit) }
            link.outbox.close()
        }
        try? await serverChannel.close()
        // Each connection writes what it had queued (`quit`) before the accept loop, and with it
        // the connections, is torn down; a connection that cannot take it gets at most a second.
        await withTaskGroup(of: Void.self) { group in
            for link in all { group.addTask { await link.outbox.flushed(within: .seconds(1)) } }
        }
        acceptTask.withLock { $0 }?.cancel()
    }

    /// A duration in whole milliseconds, clamped to what the wire allows.
    static func ms(_ duration: Duration, in range: ClosedRange<Int>) -> Int {
        Int(min(max(duration.nanoseconds / 1_000_000, Int64(range.lowerBound)), Int64(range.upperBound)))
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    // MARK: One connection

    struct Missing: Error, CustomStringConvertible {
        let silence: Duration
        var description: String { "no message for \(silence.shortLabel) (heartbeat timeout)" }
    }

    /// An accepted connection and its authentication gate.
    struct Connection: Sendable {
        let channel: NIOAsyncChannel<ClusterMessage, ClusterMessage>
        let gate: ConnectionGate
    }

    private func serve(_ accepted: Connection) async {
        let connection = accepted.channel
        let peer = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown peer"
        var link: RemoteWorkerLink?
        var handshakePending = true
        defer { if handshakePending { pendingHandshakes.wrappingSubtract(1, ordering: .relaxed) } }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var messages = inbound.makeAsyncIterator()
                // A peer that does not finish the handshake in time is disconnected.
                let channel = connection.channel
                let timeout = config.handshakeTimeout
                let watchdog = Task {
                    try await Task.sleep(for: timeout)
                    self.logger.warning("closing connection from \(peer): handshake not completed within \(timeout.shortLabel)")
                    try await channel.close()
                }
                defer { watchdog.cancel() }
                let joined: RemoteWorkerLink
                do {
                    joined = try await self.handshake(&messages, outbound: outbound, peer: peer, channel: channel)
                } catch let error as ProtocolError {
                    try? await outbound.write(.reject(reason: error.description))
                    throw error
                }
                link = joined
                watchdog.cancel()
                handshakePending = false
                pendingHandshakes.wrappingSubtract(1, ordering: .relaxed)
                accepted.gate.open()
                try await outbound.write(.welcome(workerId: joined.workerId, heartbeatMs: Self.ms(config.heartbeatInterval, in: WireLimits.heartbeatMs),
                                                  timeoutMs: Self.ms(config.heartbeatTimeout, in: WireLimits.timeoutMs), runClockNs: ProcessClock.nowNs))
                do {
                    try await self.session(joined, messages: &messages, outbound: outbound, channel: channel)
                } catch let error as ProtocolError {
                    // Tell the peer why before closing (docs/protocol.md, "Framing").
                    try? await outbound.write(.error(reason: error.description))
                    throw error
                }
            }
        } catch {
            let label = link.map { "worker \($0.workerId) (\(peer))" } ?? peer
            if !(error is CancellationError) { logger.warning("closing connection from \(label): \(error)") }
        }
        if let link {
            link.noteClosed()
            // Only the worker's current connection speaks for it: a replaced one (the worker rejoined) goes quietly.
            let current = links.withLock { links in
                guard links[link.workerId] === link else { return false }
                links.removeValue(forKey: link.workerId)
                return true
            }
            if current { await roster.lose(link.workerId, reason: "connection closed") }
        }
    }

    private func handshake(_ messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                           outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>, peer: String, channel: any Channel) async throws -> RemoteWorkerLink {
        var machine = CoordinatorHandshake(token: config.token)
        while true {
            guard let message = try await messages.next() else { throw ProtocolError.unexpected("connection closed during the handshake") }
            switch machine.receive(message) {
            case .send(let reply):
                try await outbound.write(reply)
            case .refuse(let error):
                throw error
            case .admit(let hello):
                return try await admit(hello, outbound: outbound, peer: peer, channel: channel)
            }
        }
    }

    /// Registers an authenticated worker. The same worker process (same instance) coming back
    /// replaces its old connection: a rejoin. Another process with an id still connected is refused,
    /// and retries.
    private func admit(_ hello: CoordinatorHandshake.Hello, outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>,
                       peer: String, channel: any Channel) async throws -> RemoteWorkerLink {
        let outbox = Outbox()
        let link = RemoteWorkerLink(workerId: hello.workerId, host: hello.host, cores: hello.cores, instance: hello.instance,
                                    outbox: outbox, close: { channel.close(promise: nil) })
        let outcome: Result<RemoteWorkerLink?, ClusterServerError> = links.withLock { links in
            if let old = links[hello.workerId] {
                guard old.instance == hello.instance else {
                    return .failure(ClusterServerError(description: "\(WorkerHandshake.duplicatePrefix) '\(hello.workerId)' (another process holds it)"))
                }
                links[hello.workerId] = link
                return .success(old)
            }
            if links.count >= config.maxWorkers { return .failure(ClusterServerError(description: "too many workers (--max-workers \(config.maxWorkers))")) }
            links[hello.workerId] = link
            return .success(nil)
        }
        switch outcome {
        case .failure(let error):
            try? await outbound.write(.reject(reason: error.description))
            throw error  // already rejected above; a ProtocolError would send a second reject
        case .success(let replaced?):
            replaced.noteClosed()
            replaced.close()
            logger.warning("worker \(hello.workerId) reconnected from \(peer); its old connection is closed")
        case .success(nil):
            logger.info("worker \(hello.workerId) connected from \(peer) (stampede \(hello.version), \(hello.cores) cores)")
        }
        return link
    }

    private func session(_ link: RemoteWorkerLink, messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                         outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>, channel: any Channel) async throws {
        let lastHeard = LastHeard()
        let interval = config.heartbeatInterval
        let timeout = config.heartbeatTimeout
        await roster.add(link)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await link.outbox.drain(into: outbound) }
            group.addTask {
                var heartbeat = Heartbeat(intervalNs: interval.nanoseconds, timeoutNs: timeout.nanoseconds)
                while true {
                    switch heartbeat.next(atNs: ProcessClock.nowNs, lastHeardNs: lastHeard.lastNs) {
                    case .ping:
                        link.outbox.send(.ping(t: ProcessClock.nowNs))
                    case .sleep(let untilNs):
                        try await Task.sleep(until: ProcessClock.instant(ofNs: untilNs), clock: .continuous)
                    case .timeout(let silenceNs):
                        // Closing the channel ends the reader below, which reports the worker lost.
                        let missing = Missing(silence: .nanoseconds(silenceNs))
                        self.logger.warning("worker \(link.workerId) missing: \(missing)")
                        channel.close(promise: nil)
                        throw missing
                    }
                }
            }
            var pendingRecords: [UInt64: [RequestRecord]] = [:]
            var pendingCount = 0
            let maxPending = config.maxPendingRecords
            while let message = try await messages.next() {
                lastHeard.touch()
                switch message {
                case .stats(var delta):
                    guard delta.worker == link.workerId else { throw ProtocolError.invalid("stats for worker '\(delta.worker)' on \(link.workerId)'s connection") }
                    // Records are sent right before the stats of their seq: any held for another seq are stale.
                    delta.records += pendingRecords.removeValue(forKey: delta.seq) ?? []
                    pendingRecords.removeAll()
                    pendingCount = 0
                    guard links.withLock({ $0[link.workerId] === link }) else { continue }  // replaced by a rejoin
                    await roster.deliver(delta)
                case .records(let seq, let records):
                    pendingCount += records.count
                    guard pendingCount <= maxPending else {
                        throw ProtocolError.invalid("more than \(maxPending) records sent ahead of their stats")
                    }
                    pendingRecords[seq, default: []] += records
                case .stopped(let runId, let lastSeq):
                    link.noteStopped(lastSeq: lastSeq)
                    link.outbox.send(.stoppedAck(runId: runId, lastSeq: lastSeq))
                case .ping(let t):
                    link.outbox.send(.pong(t: t, now: ProcessClock.nowNs, cpu: nil))
                case .pong(_, _, let cpu):
                    link.noteCPU(cpu)
                case .error(let reason):
                    throw ProtocolError.unexpected("worker reported: \(reason)")
                default:
                    throw ProtocolError.unexpected("'\(message.type)' is not sent by workers")
                }
            }
            group.cancelAll()
        }
    }
}
