import Foundation
import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeMetrics

/// Sample values for the codec tests.
enum Fixtures {
    static let scenario = Scenario(
        target: "http://127.0.0.1:8000", api: .chat, model: "stampede-mock", apiKeyEnv: "OPENAI_API_KEY",
        extraBody: .object(["temperature": .number(0), "ignore_eos": .bool(true)]), requestTimeoutSeconds: 30,
        users: 10, spawnRate: 2.5, runTimeSeconds: 90, maxRequests: 500,
        input: LengthSpec(mean: 550, stddev: 150), output: LengthSpec(mean: 150, stddev: 20),
        seed: 42, correctness: true, name: "codec", collectRecords: true)

    static let share = WorkerShare(users: 4, spawnRate: 0.4, userBase: 6, requestBudget: 120, stage: 1)

    /// A succeeded request with every optional field set, and a failed one with the rest.
    static let records: [RequestRecord] = [
        RequestRecord(id: 7, user: 3, worker: "w1", stage: 1, scheduledNs: 1_000_000, sendNs: 1_000_500,
                      firstByteNs: 20_000_000, firstTokenNs: 25_000_000, firstAnswerTokenNs: 30_000_000,
                      tokenChunkNs: [25_000_000, 30_000_000, 35_500_000, 41_000_000], endNs: 42_000_000,
                      inputTokensEstimate: 48, inputTokens: 50, outputTokens: 4, tokenSource: .usage,
                      requestedOutputTokens: 4, status: 200, correct: true),
        RequestRecord(id: 8, user: 0, worker: "w1", stage: 0, scheduledNs: 2_000_000, sendNs: 2_000_000, endNs: 9_000_000,
                      inputTokensEstimate: 12, inputTokens: 12, requestedOutputTokens: 10, status: 503,
                      errorClass: .http5xx, errorMessage: "HTTP 503: overloaded"),
    ]

    /// Stage metrics with counters and histograms, built the way a worker builds them.
    static var stageMetrics: [Int: MetricSet] {
        var zero = MetricSet()
        zero.record(records[1])
        var one = MetricSet()
        one.record(records[0])
        return [0: zero, 1: one]
    }

    static var delta: IntervalDelta {
        IntervalDelta(worker: "w1", seq: 3, interval: 2, startNs: 2_000_000_000, endNs: 3_000_000_000, users: 4, inFlight: 2,
                      stages: stageMetrics, final: true, exhausted: true)
    }

    /// One value of every `ClusterMessage` case (two where an optional field changes the encoding).
    static let everyMessage: [ClusterMessage] = [
        .hello(workerId: "worker-1.example:42", version: "0.1.0", host: "node-a", cores: 16, instance: "0123456789abcdef",
               nonce: String(repeating: "cd", count: 32)),
        .challenge(nonce: String(repeating: "ab", count: 32), proof: String(repeating: "9e", count: 32)),
        .auth(hmac: String(repeating: "0f", count: 32)),
        .welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 912_345_678),
        .reject(reason: "authentication failed"),
        .start(assignment: WorkerAssignment(runId: "1b2c-run", generation: 3, scenario: scenario, share: share, startAtNs: 250_000_000),
               epochNs: 1_000_000_000),
        .setUsers(generation: 4, share: WorkerShare(users: 0, spawnRate: 0, userBase: 0)),
        .setUsers(generation: 5, share: share),
        .stop(runId: "1b2c-run"),
        .stoppedAck(runId: "1b2c-run", lastSeq: 41),
        .quit,
        .stats(delta),
        .stats(IntervalDelta(worker: "w2", seq: 0, interval: 0, startNs: 0, endNs: 1_000_000_000, users: 0, inFlight: 0, stages: [:])),
        .records(seq: 3, records: records),
        .stopped(runId: "1b2c-run", lastSeq: 41),
        .ping(t: 123_456_789),
        .pong(t: 123_456_789, now: 987_654_321, cpu: 37.5),
        .pong(t: 1, now: 2, cpu: nil),
        .error(reason: "something broke"),
    ]

    /// The type name of each case. The switch has no `default`, so a new case fails to compile here
    /// until it is added to `everyMessage` (and checked by the round-trip test).
    static func caseName(_ message: ClusterMessage) -> String {
        switch message {
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

    static let allCaseNames: Set<String> = [
        "hello", "challenge", "auth", "welcome", "reject", "start", "set_users", "stop", "stopped_ack", "quit",
        "stats", "records", "stopped", "ping", "pong", "error",
    ]
}

/// A JSON line with some fields changed: encodes `message`, applies `edit` to the object, re-serialises.
func editedLine(_ message: ClusterMessage, _ edit: (inout [String: Any]) -> Void) throws -> String {
    let line = try WireCodec.encode(message)
    var object = try JSONSerialization.jsonObject(with: Data(line.readableBytesView)) as! [String: Any]
    edit(&object)
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

/// A stats line of the hardening report: counters of 2^63−1 (`finished`, `succeeded`) and a
/// histogram count of 2^64−1, made from a valid delta so that only those numbers are wrong.
func overflowStatsLine(worker: String, seq: UInt64) -> String {
    var set = MetricSet()
    set.counters.finished = 123_456_789
    set.counters.succeeded = 123_456_788
    set.counters.failed = 1
    set.histograms[.latency(.ttft)] = MetricHistogram()
    set.histograms[.latency(.ttft)]!.record(5, count: 987_654_321)
    let delta = IntervalDelta(worker: worker, seq: seq, interval: 0, startNs: 0, endNs: 1_000_000_000, users: 0, inFlight: 0, stages: [0: set])
    let line = String(decoding: try! WireCodec.encode(.stats(delta)).readableBytesView.dropLast(), as: UTF8.self)
    return line.replacingOccurrences(of: "123456789", with: "9223372036854775807")
        .replacingOccurrences(of: "123456788", with: "9223372036854775807")
        .replacingOccurrences(of: "987654321", with: "18446744073709551615")
}

