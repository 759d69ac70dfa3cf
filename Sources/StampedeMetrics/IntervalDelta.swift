import StampedeCore

/// What a worker sends once per interval: the requests that finished since its previous delta,
/// per stage, plus its state. Deltas from one worker carry consecutive `seq` numbers.
public struct IntervalDelta: Sendable, Equatable {
    public var worker: String
    /// Per worker and run, from 0, without gaps.
    public var seq: UInt64
    /// Interval index on the coordinator's run clock (`startNs / intervalNs`).
    public var interval: Int
    /// Interval bounds, nanoseconds on the coordinator's run clock (as estimated by the worker).
    public var startNs: Int64
    public var endNs: Int64
    /// Users running on the worker when the delta was cut.
    public var users: Int
    /// Requests in flight when the delta was cut.
    public var inFlight: Int
    /// Stage index → metrics of requests that finished in this interval.
    public var stages: [Int: MetricSet]
    /// True on the last delta of a run (sent after the worker stopped its load).
    public var final: Bool
    /// True once the worker's request budget is spent and nothing is in flight.
    public var exhausted: Bool
    /// The raw records of this interval, only when the scenario asks for them (`collectRecords`).
    public var records: [RequestRecord]
    /// The generator's self-check for this interval (on the delta its boundary cut; nil on the others).
    public var generator: GeneratorSample?

    public init(worker: String, seq: UInt64, interval: Int, startNs: Int64, endNs: Int64, users: Int, inFlight: Int,
                stages: [Int: MetricSet], final: Bool = false, exhausted: Bool = false, records: [RequestRecord] = [],
                generator: GeneratorSample? = nil) {
        self.worker = worker
        self.seq = seq
        self.interval = interval
        self.startNs = startNs
        self.endNs = endNs
        self.users = users
        self.inFlight = inFlight
        self.stages = stages
        self.final = final
        self.exhausted = exhausted
        self.records = records
        self.generator = generator
    }

    /// Bounds on what a peer's delta may hold (docs/protocol.md, "Limits").
    public static let maxRecords = 10_000
    public static let maxStagesPerDelta = 64
    public static let maxUsers = 100_000_000
    /// 2^32 intervals (136 years at 1 s); the coordinator also refuses intervals past its own run clock.
    public static let maxInterval = 1 << 32

    /// All stages merged.
    public var merged: MetricSet {
        var total = MetricSet()
        for set in stages.values { total.add(set) }
        return total
    }
}

extension IntervalDelta: Codable {
    enum CodingKeys: String, CodingKey {
        case worker, seq, interval, startNs = "start_ns", endNs = "end_ns", users, inFlight = "in_flight", stages, final, exhausted, records, generator
    }

    struct StageEntry: Codable {
        var stage: Int
        var metrics: WireMetricSet
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        worker = try c.decode(String.self, forKey: .worker)
        seq = try c.decode(UInt64.self, forKey: .seq)
        interval = try c.decode(Int.self, forKey: .interval)
        startNs = try c.decode(Int64.self, forKey: .startNs)
        endNs = try c.decode(Int64.self, forKey: .endNs)
        users = try c.decode(Int.self, forKey: .users)
        inFlight = try c.decode(Int.self, forKey: .inFlight)
        final = try c.decodeIfPresent(Bool.self, forKey: .final) ?? false
        exhausted = try c.decodeIfPresent(Bool.self, forKey: .exhausted) ?? false
        records = try c.decodeIfPresent([RequestRecord].self, forKey: .records) ?? []
        generator = try c.decodeIfPresent(GeneratorSample.self, forKey: .generator)
        guard records.count <= Self.maxRecords else {
            throw DecodingError.dataCorruptedError(forKey: .records, in: c, debugDescription: "more than \(Self.maxRecords) records")
        }
        for record in records {
            do { try record.check() } catch {
                throw DecodingError.dataCorruptedError(forKey: .records, in: c, debugDescription: error.description)
            }
        }
        let entries = try c.decode([StageEntry].self, forKey: .stages)
        guard entries.count <= Self.maxStagesPerDelta else {
            throw DecodingError.dataCorruptedError(forKey: .stages, in: c, debugDescription: "more than \(Self.maxStagesPerDelta) stages")
        }
        var stages: [Int: MetricSet] = [:]
        for entry in entries {
            guard (0...RequestRecord.maxStage).contains(entry.stage), stages[entry.stage] == nil else {
                throw DecodingError.dataCorruptedError(forKey: .stages, in: c, debugDescription: "bad or repeated stage \(entry.stage)")
            }
            do {
                stages[entry.stage] = try MetricSet(wire: entry.metrics)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .stages, in: c, debugDescription: error.description)
            }
        }
        guard users >= 0, inFlight >= 0, interval >= 0, endNs >= startNs else {
            throw DecodingError.dataCorruptedError(forKey: .interval, in: c, debugDescription: "negative users, in-flight or interval")
        }
        guard users <= Self.maxUsers, inFlight <= Self.maxUsers, interval <= Self.maxInterval,
              startNs >= 0, endNs <= RequestRecord.maxAbsNanoseconds, worker.utf8.count <= 128 else {
            throw DecodingError.dataCorruptedError(forKey: .interval, in: c, debugDescription: "users, in-flight, interval or times out of range")
        }
        self.stages = stages
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(worker, forKey: .worker)
        try c.encode(seq, forKey: .seq)
        try c.encode(interval, forKey: .interval)
        try c.encode(startNs, forKey: .startNs)
        try c.encode(endNs, forKey: .endNs)
        try c.encode(users, forKey: .users)
        try c.encode(inFlight, forKey: .inFlight)
        try c.encode(stages.keys.sorted().map { StageEntry(stage: $0, metrics: stages[$0]!.wire) }, forKey: .stages)
        if final { try c.encode(true, forKey: .final) }
        if exhausted { try c.encode(true, forKey: .exhausted) }
        if !records.isEmpty { try c.encode(records, forKey: .records) }
        try c.encodeIfPresent(generator, forKey: .generator)
    }
}
