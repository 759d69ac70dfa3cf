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
        let listener: NIOAsyncChannel<NIOAsyncChannel<ClusterMessage, ClusterMessage>, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(host: config.host, port: config.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try ClusterPipeline.configure(channel, maxLineBytes: maxLine)
                        return try NIOAsyncChannel<ClusterMessage, ClusterMessage>(wrappingChannelSynchronously: channel)
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
        let task = acceptTask.withLock { $0 }
        // Give connections a moment to flush `quit` before the accept loop is torn down.
        try? await Task.sleep(for: .milliseconds(200))
        task?.cancel()
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    // MARK: One connection

    struct Missing: Error, CustomStringConvertible {
        let silence: Duration
        var description: String { "no message for \(silence.shortLabel) (heartbeat timeout)" }
    }

    private func serve(_ connection: NIOAsyncChannel<ClusterMessage, ClusterMessage>) async {
        let peer = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown peer"
        var workerId: String?
        do {
            try await connection.executeThenClose { inbound, outbound in
                var messages = inbound.makeAsyncIterator()
                let link: RemoteWorkerLink
                // A peer that does not finish the handshake in time is disconnected.
                let channel = connection.channel
                let timeout = config.handshakeTimeout
                let watchdog = Task {
                    try await Task.sleep(for: timeout)
                    self.logger.warning("closing connection from \(peer): handshake not completed within \(timeout.shortLabel)")
                    try await channel.close()
                }
                defer { watchdog.cancel() }
                do {
                    link = try await self.handshake(&messages, outbound: outbound, peer: peer)
                } catch let error as ProtocolError {
                    try? await outbound.write(.reject(reason: error.description))
                    throw error
                }
                watchdog.cancel()
                workerId = link.workerId
                do {
                    try await self.session(link, messages: &messages, outbound: outbound, channel: channel)
                } catch let error as ProtocolError {
                    // Tell the peer why before closing (docs/protocol.md, "Framing").
                    try? await outbound.write(.error(reason: error.description))
                    throw error
                }
            }
        } catch {
            let label = workerId.map { "worker \($0) (\(peer))" } ?? peer
            if error is CancellationError { return }
            logger.warning("closing connection from \(label): \(error)")
        }
        if let workerId {
            let link = links.withLock { $0.removeValue(forKey: workerId) }
            link?.noteClosed()
            await roster.lose(workerId, reason: "connection closed")
        }
    }

    private func handshake(_ messages: inout NIOAsyncChannelInboundStream<ClusterMessage>.AsyncIterator,
                           outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>, peer: String) async throws -> RemoteWorkerLink {
        guard case .hello(let workerId, let version, let host, let cores)? = try await messages.next() else {
            throw ProtocolError.unexpected("expected hello first")
        }
        if let token = config.token {
            let nonce = ClusterAuth.makeNonce()
            try await outbound.write(.challenge(nonce: nonce))
            guard case .auth(let proof)? = try await messages.next() else { throw ProtocolError.unexpected("expected auth after challenge") }
            guard ClusterAuth.verify(proof: proof, token: token, nonce: nonce, workerId: workerId) else {
                throw ProtocolError.unauthenticated
            }
        }
        let outbox = Outbox()
        let link = RemoteWorkerLink(workerId: workerId, host: host, cores: cores, outbox: outbox)
        let admitted: String? = links.withLock { links in
            if links[workerId] != nil { return "duplicate worker id '\(workerId)'" }
            if links.count >= config.maxWorkers { return "too many workers (--max-workers \(config.maxWorkers))" }
            links[workerId] = link
            return nil
        }
        if let reason = admitted {
            try? await outbound.write(.reject(reason: reason))
            throw ClusterServerError(description: reason)  // already rejected above; a ProtocolError would send a second reject
        }
        try await outbound.write(.welcome(workerId: workerId, heartbeatMs: Int(config.heartbeatInterval.seconds * 1000), runClockNs: ProcessClock.nowNs))
        logger.info("worker \(workerId) connected from \(peer) (stampede \(version), \(cores) cores)")
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
                while true {
                    try await Task.sleep(for: min(interval, .milliseconds(250)))
                    let silence = lastHeard.silence
                    if silence > timeout {
                        // Closing the channel ends the reader below, which reports the worker lost.
                        self.logger.warning("worker \(link.workerId) missing: \(Missing(silence: silence))")
                        channel.close(promise: nil)
                        throw Missing(silence: silence)
                    }
                    link.outbox.send(.ping(t: ProcessClock.nowNs))
                    try await Task.sleep(for: max(.zero, interval - .milliseconds(250)))
                }
            }
            var pendingRecords: [UInt64: [RequestRecord]] = [:]
            while let message = try await messages.next() {
                lastHeard.touch()
                switch message {
                case .stats(var delta):
                    guard delta.worker == link.workerId else { throw ProtocolError.invalid("stats for worker '\(delta.worker)' on \(link.workerId)'s connection") }
                    delta.records += pendingRecords.removeValue(forKey: delta.seq) ?? []
                    await roster.deliver(delta)
                case .records(let seq, let records):
                    guard records.count <= 10_000 else { throw ProtocolError.invalid("more than 10000 records in one message") }
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
