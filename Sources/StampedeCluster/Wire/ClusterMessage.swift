import StampedeCore
import StampedeEngine
import StampedeMetrics

/// Every message of protocol version 1 (docs/protocol.md).
public enum ClusterMessage: Sendable, Equatable {
    // Handshake
    case hello(workerId: String, version: String, host: String, cores: Int)
    case challenge(nonce: String)
    case auth(hmac: String)
    case welcome(workerId: String, heartbeatMs: Int, runClockNs: Int64)
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

    public static let protocolVersion = 1

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
}

extension ClusterMessage: Codable {
    enum Key: String, CodingKey {
        case type, v
        case workerId = "worker_id", version, host, cores, nonce, hmac, heartbeatMs = "heartbeat_ms", runClockNs = "run_clock_ns"
        case reason, assignment, epochNs = "epoch_ns", generation, share, runId = "run_id", lastSeq = "last_seq"
        case delta, seq, records, t, now, cpu
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        let version = try c.decodeIfPresent(Int.self, forKey: .v)
        guard version == Self.protocolVersion else { throw ProtocolError.version(version) }
        switch type {
        case "hello":
            let cores = try c.decode(Int.self, forKey: .cores)
            let id = try c.decode(String.self, forKey: .workerId)
            guard cores >= 0 else { throw ProtocolError.invalid("cores must not be negative") }
            guard Self.isValidWorkerId(id) else { throw ProtocolError.invalid("worker_id must be 1-128 printable characters without spaces") }
            self = .hello(workerId: id, version: try c.decode(String.self, forKey: .version),
                          host: try c.decode(String.self, forKey: .host), cores: cores)
        case "challenge": self = .challenge(nonce: try c.decode(String.self, forKey: .nonce))
        case "auth": self = .auth(hmac: try c.decode(String.self, forKey: .hmac))
        case "welcome":
            self = .welcome(workerId: try c.decode(String.self, forKey: .workerId), heartbeatMs: try c.decode(Int.self, forKey: .heartbeatMs),
                            runClockNs: try c.decode(Int64.self, forKey: .runClockNs))
        case "reject": self = .reject(reason: try c.decode(String.self, forKey: .reason))
        case "start":
            let assignment = try c.decode(WorkerAssignment.self, forKey: .assignment)
            try Self.check(assignment.share)
            do { try assignment.scenario.validate() } catch { throw ProtocolError.invalid("scenario: \(error)") }
            self = .start(assignment: assignment, epochNs: try c.decode(Int64.self, forKey: .epochNs))
        case "set_users":
            let share = try c.decode(WorkerShare.self, forKey: .share)
            try Self.check(share)
            self = .setUsers(generation: try c.decode(Int.self, forKey: .generation), share: share)
        case "stop": self = .stop(runId: try c.decode(String.self, forKey: .runId))
        case "stopped_ack": self = .stoppedAck(runId: try c.decode(String.self, forKey: .runId), lastSeq: try c.decode(UInt64.self, forKey: .lastSeq))
        case "quit": self = .quit
        case "stats": self = .stats(try c.decode(IntervalDelta.self, forKey: .delta))
        case "records": self = .records(seq: try c.decode(UInt64.self, forKey: .seq), records: try c.decode([RequestRecord].self, forKey: .records))
        case "stopped": self = .stopped(runId: try c.decode(String.self, forKey: .runId), lastSeq: try c.decode(UInt64.self, forKey: .lastSeq))
        case "ping": self = .ping(t: try c.decode(Int64.self, forKey: .t))
        case "pong":
            self = .pong(t: try c.decode(Int64.self, forKey: .t), now: try c.decode(Int64.self, forKey: .now),
                         cpu: try c.decodeIfPresent(Double.self, forKey: .cpu))
        case "error": self = .error(reason: try c.decode(String.self, forKey: .reason))
        default: throw ProtocolError.unknownType(String(type.prefix(64)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(type, forKey: .type)
        try c.encode(Self.protocolVersion, forKey: .v)
        switch self {
        case .hello(let workerId, let version, let host, let cores):
            try c.encode(workerId, forKey: .workerId)
            try c.encode(version, forKey: .version)
            try c.encode(host, forKey: .host)
            try c.encode(cores, forKey: .cores)
        case .challenge(let nonce): try c.encode(nonce, forKey: .nonce)
        case .auth(let hmac): try c.encode(hmac, forKey: .hmac)
        case .welcome(let workerId, let heartbeatMs, let runClockNs):
            try c.encode(workerId, forKey: .workerId)
            try c.encode(heartbeatMs, forKey: .heartbeatMs)
            try c.encode(runClockNs, forKey: .runClockNs)
        case .reject(let reason), .error(let reason): try c.encode(reason, forKey: .reason)
        case .start(let assignment, let epochNs):
            try c.encode(assignment, forKey: .assignment)
            try c.encode(epochNs, forKey: .epochNs)
        case .setUsers(let generation, let share):
            try c.encode(generation, forKey: .generation)
            try c.encode(share, forKey: .share)
        case .stop(let runId): try c.encode(runId, forKey: .runId)
        case .stoppedAck(let runId, let lastSeq), .stopped(let runId, let lastSeq):
            try c.encode(runId, forKey: .runId)
            try c.encode(lastSeq, forKey: .lastSeq)
        case .quit: break
        case .stats(let delta): try c.encode(delta, forKey: .delta)
        case .records(let seq, let records):
            try c.encode(seq, forKey: .seq)
            try c.encode(records, forKey: .records)
        case .ping(let t): try c.encode(t, forKey: .t)
        case .pong(let t, let now, let cpu):
            try c.encode(t, forKey: .t)
            try c.encode(now, forKey: .now)
            try c.encodeIfPresent(cpu, forKey: .cpu)
        }
    }

    static func check(_ share: WorkerShare) throws {
        guard share.users >= 0, share.spawnRate >= 0, share.spawnRate.isFinite, share.userBase >= 0, share.stage >= 0,
              (share.requestBudget ?? 0) >= 0 else {
            throw ProtocolError.invalid("share has a negative or non-finite value")
        }
    }

    static func isValidWorkerId(_ id: String) -> Bool {
        (1...128).contains(id.count) && id.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }
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

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "line longer than the \(limit)-byte limit"
        case .notJSON(let why): "not a JSON message: \(why)"
        case .version(let v): "protocol version \(v.map(String.init) ?? "missing") not supported; this side speaks \(ClusterMessage.protocolVersion)"
        case .unknownType(let type): "unknown message type '\(type)'"
        case .invalid(let why): "invalid message: \(why)"
        case .unexpected(let why): "unexpected message: \(why)"
        case .unauthenticated: "authentication failed"
        }
    }
}
