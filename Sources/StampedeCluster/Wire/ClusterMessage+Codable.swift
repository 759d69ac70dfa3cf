import StampedeCore
import StampedeEngine
import StampedeMetrics

/// Range limits for every field a peer sends (docs/protocol.md, "Limits"). Each value is checked
/// when the line is decoded, before anything acts on it, so no later arithmetic can trap.
public enum WireLimits {
    /// Clock readings (`t`, `now`, `run_clock_ns`, `epoch_ns`): nanoseconds since a process started.
    public static let clockNs: ClosedRange<Int64> = 0...(1 << 62)
    /// Run-clock offsets in an assignment (`startAtNs`, `effectiveAtNs`).
    public static let runNs: ClosedRange<Int64> = 0...(1 << 60)
    public static let cores = 0...1_000_000
    public static let heartbeatMs = 1...60_000
    public static let timeoutMs = 1...600_000
    /// CPU percent of one core.
    public static let cpuPercent = 0.0...100_000_000.0
    public static let users = 0...IntervalDelta.maxUsers
    public static let userBase = 0...(1 << 40)
    public static let requestBudget = 0...(1 << 48)
    public static let spawnRate = 0.0...1e9
    public static let generation = 0...(1 << 48)
    public static let stage = 0...RequestRecord.maxStage
    public static let reasonLength = 1024
    public static let versionLength = 32
    public static let hostLength = 253
    public static let idLength = 128
    public static let hexLength = 2...256

    /// A string a peer sent, made safe to print on one log line: control and non-ASCII characters
    /// become `?`, and it is cut at `max` characters.
    public static func printable(_ text: String, max: Int) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(max) {
            out.unicodeScalars.append(scalar.value >= 0x20 && scalar.value < 0x7F ? scalar : "?")
        }
        return text.unicodeScalars.count > max ? out + "…" : out
    }

    /// 1…`maxLength` printable ASCII characters without spaces.
    public static func isToken(_ text: String, maxLength: Int) -> Bool {
        let scalars = text.unicodeScalars
        return !scalars.isEmpty && scalars.count <= maxLength && scalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }

    static func isHex(_ text: String) -> Bool {
        hexLength.contains(text.utf8.count) && text.utf8.count % 2 == 0 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

extension ClusterMessage: Codable {
    enum Key: String, CodingKey {
        case type, v
        case workerId = "worker_id", version, host, cores, instance, nonce, proof, hmac, heartbeatMs = "heartbeat_ms", timeoutMs = "timeout_ms"
        case runClockNs = "run_clock_ns"
        case reason, assignment, epochNs = "epoch_ns", generation, share, runId = "run_id", lastSeq = "last_seq"
        case delta, seq, records, t, now, cpu
    }

    /// Just the envelope: read first, so a message that is not allowed yet is refused unread.
    struct Envelope: Decodable {
        let type: String
        let v: Int?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        let version = try c.decodeIfPresent(Int.self, forKey: .v)
        guard version == Self.protocolVersion else { throw ProtocolError.version(version) }
        func int<T: FixedWidthInteger & Decodable>(_ key: Key, in range: ClosedRange<T>) throws -> T {
            let value = try c.decode(T.self, forKey: key)
            guard range.contains(value) else { throw ProtocolError.invalid("\(key.rawValue) out of range \(range.lowerBound)...\(range.upperBound)") }
            return value
        }
        func token(_ key: Key, maxLength: Int = WireLimits.idLength) throws -> String {
            let value = try c.decode(String.self, forKey: key)
            guard WireLimits.isToken(value, maxLength: maxLength) else {
                throw ProtocolError.invalid("\(key.rawValue) must be 1-\(maxLength) printable characters without spaces")
            }
            return value
        }
        func hex(_ key: Key) throws -> String {
            let value = try c.decode(String.self, forKey: key)
            guard WireLimits.isHex(value) else { throw ProtocolError.invalid("\(key.rawValue) must be lowercase hex") }
            return value
        }
        func reason() throws -> String {
            WireLimits.printable(try c.decode(String.self, forKey: .reason), max: WireLimits.reasonLength)
        }
        switch type {
        case "hello":
            let host = try c.decode(String.self, forKey: .host)
            guard host.unicodeScalars.count <= WireLimits.hostLength else { throw ProtocolError.invalid("host longer than \(WireLimits.hostLength)") }
            self = .hello(workerId: try token(.workerId), version: try token(.version, maxLength: WireLimits.versionLength),
                          host: WireLimits.printable(host, max: WireLimits.hostLength), cores: try int(.cores, in: WireLimits.cores),
                          instance: try token(.instance, maxLength: 64), nonce: try hex(.nonce))
        case "challenge": self = .challenge(nonce: try hex(.nonce), proof: try hex(.proof))
        case "auth": self = .auth(hmac: try hex(.hmac))
        case "welcome":
            self = .welcome(workerId: try token(.workerId), heartbeatMs: try int(.heartbeatMs, in: WireLimits.heartbeatMs),
                            timeoutMs: try int(.timeoutMs, in: WireLimits.timeoutMs), runClockNs: try int(.runClockNs, in: WireLimits.clockNs))
        case "reject": self = .reject(reason: try reason())
        case "start":
            let assignment = try c.decode(WorkerAssignment.self, forKey: .assignment)
            try Self.check(assignment)
            self = .start(assignment: assignment, epochNs: try int(.epochNs, in: WireLimits.clockNs))
        case "set_users":
            let share = try c.decode(WorkerShare.self, forKey: .share)
            try Self.check(share)
            self = .setUsers(generation: try int(.generation, in: WireLimits.generation), share: share)
        case "stop": self = .stop(runId: try token(.runId))
        case "stopped_ack": self = .stoppedAck(runId: try token(.runId), lastSeq: try c.decode(UInt64.self, forKey: .lastSeq))
        case "quit": self = .quit
        case "stats": self = .stats(try c.decode(IntervalDelta.self, forKey: .delta))
        case "records":
            let records = try c.decode([RequestRecord].self, forKey: .records)
            guard records.count <= IntervalDelta.maxRecords else { throw ProtocolError.invalid("more than \(IntervalDelta.maxRecords) records in one message") }
            for record in records {
                do { try record.check() } catch { throw ProtocolError.invalid(error.description) }
            }
            self = .records(seq: try c.decode(UInt64.self, forKey: .seq), records: records)
        case "stopped": self = .stopped(runId: try token(.runId), lastSeq: try c.decode(UInt64.self, forKey: .lastSeq))
        case "ping": self = .ping(t: try int(.t, in: WireLimits.clockNs))
        case "pong":
            let cpu = try c.decodeIfPresent(Double.self, forKey: .cpu)
            if let cpu, !WireLimits.cpuPercent.contains(cpu) { throw ProtocolError.invalid("cpu out of range") }
            self = .pong(t: try int(.t, in: WireLimits.clockNs), now: try int(.now, in: WireLimits.clockNs), cpu: cpu)
        case "error": self = .error(reason: try reason())
        default: throw ProtocolError.unknownType(WireLimits.printable(type, max: 64))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(type, forKey: .type)
        try c.encode(Self.protocolVersion, forKey: .v)
        switch self {
        case .hello(let workerId, let version, let host, let cores, let instance, let nonce):
            try c.encode(workerId, forKey: .workerId)
            try c.encode(version, forKey: .version)
            try c.encode(host, forKey: .host)
            try c.encode(cores, forKey: .cores)
            try c.encode(instance, forKey: .instance)
            try c.encode(nonce, forKey: .nonce)
        case .challenge(let nonce, let proof):
            try c.encode(nonce, forKey: .nonce)
            try c.encode(proof, forKey: .proof)
        case .auth(let hmac): try c.encode(hmac, forKey: .hmac)
        case .welcome(let workerId, let heartbeatMs, let timeoutMs, let runClockNs):
            try c.encode(workerId, forKey: .workerId)
            try c.encode(heartbeatMs, forKey: .heartbeatMs)
            try c.encode(timeoutMs, forKey: .timeoutMs)
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

    static func check(_ assignment: WorkerAssignment) throws {
        guard WireLimits.isToken(assignment.runId, maxLength: WireLimits.idLength) else { throw ProtocolError.invalid("runId must be a printable token") }
        guard WireLimits.generation.contains(assignment.generation), WireLimits.runNs.contains(assignment.startAtNs) else {
            throw ProtocolError.invalid("generation or startAtNs out of range")
        }
        try check(assignment.share)
        do { try assignment.scenario.validate() } catch { throw ProtocolError.invalid("scenario: \(error)") }
    }

    static func check(_ share: WorkerShare) throws {
        guard WireLimits.users.contains(share.users), share.spawnRate.isFinite, WireLimits.spawnRate.contains(share.spawnRate),
              WireLimits.userBase.contains(share.userBase), WireLimits.stage.contains(share.stage),
              WireLimits.requestBudget.contains(share.requestBudget ?? 0) else {
            throw ProtocolError.invalid("share has a negative, non-finite or out-of-range value")
        }
        guard share.openLoopFieldsValid, WireLimits.users.contains(share.maxInFlight ?? 0),
              WireLimits.spawnRate.contains(share.rate ?? 0), WireLimits.runNs.contains(share.effectiveAtNs ?? 0) else {
            throw ProtocolError.invalid("share has invalid open-loop fields")
        }
    }
}
