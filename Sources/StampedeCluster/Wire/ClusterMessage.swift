import StampedeCore
import StampedeEngine
import StampedeMetrics

/// Every message of protocol version 2 (docs/protocol.md).
public enum ClusterMessage: Sendable, Equatable {
    // Handshake
    /// `instance` is random per worker process (tells a reconnect from another process with the same id);
    /// `nonce` is the worker's challenge to the coordinator.
    case hello(workerId: String, version: String, host: String, cores: Int, instance: String, nonce: String)
    /// The coordinator's challenge, and its proof that it knows the token (over the worker's nonce).
    case challenge(nonce: String, proof: String)
    case auth(hmac: String)
    /// `timeoutMs`: the coordinator's heartbeat timeout; the worker waits as long before it gives up.
    case welcome(workerId: String, heartbeatMs: Int, timeoutMs: Int, runClockNs: Int64)
    case reject(reason: String)
    // Control, coordinator → worker
    case start(assignment: WorkerAssignment, epochNs: Int64)
    case setUsers(generation: Int, share: WorkerShare)
    case stop(runId: String)
    case stoppedAck(runId: String, lastSeq: UInt64)
    case quit
    // Stats, worker → coordinator
    case stats(IntervalDelta)
    case records(seq: UInt64, records: [RequestRecord])
    case stopped(runId: String, lastSeq: UInt64)
    // Both ways
    case ping(t: Int64)
    case pong(t: Int64, now: Int64, cpu: Double?)
    case error(reason: String)

    public static let protocolVersion = 2

    public var type: String {
        switch self {
        case .hello: "hello"
        case .challenge: "challenge"
        case .auth: "auth"
        case .welcome: "welcome"
        case .reject: "reject"
        case .start: "start"
        case .setUsers: "set_users"
        case .stop: "stop"
        case .stoppedAck: "stopped_ack"
        case .quit: "quit"
        case .stats: "stats"
        case .records: "records"
        case .stopped: "stopped"
        case .ping: "ping"
        case .pong: "pong"
        case .error: "error"
        }
    }

    /// What a coordinator accepts before a worker has authenticated, and what a worker accepts
    /// before the coordinator has proved itself. Anything else is refused unread.
    public static let coordinatorPreAuthTypes: Set<String> = ["hello", "auth"]
    public static let workerPreAuthTypes: Set<String> = ["challenge", "welcome", "reject", "error"]
}

/// Why a line from a peer was refused. The connection is closed with this reason.
public enum ProtocolError: Error, Equatable, CustomStringConvertible {
    case lineTooLong(limit: Int)
    case notJSON(String)
    case version(Int?)
    case unknownType(String)
    case invalid(String)
    case unexpected(String)
    case unauthenticated
    /// The coordinator could not prove that it knows the cluster token.
    case coordinatorUnauthenticated

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "line longer than the \(limit)-byte limit"
        case .notJSON(let why): "not a JSON message: \(why)"
        case .version(let v): "protocol version \(v.map(String.init) ?? "missing") not supported; this side speaks \(ClusterMessage.protocolVersion)"
        case .unknownType(let type): "unknown message type '\(type)'"
        case .invalid(let why): "invalid message: \(why)"
        case .unexpected(let why): "unexpected message: \(why)"
        case .unauthenticated: "authentication failed"
        case .coordinatorUnauthenticated: "the coordinator did not prove that it knows the cluster token"
        }
    }
}
