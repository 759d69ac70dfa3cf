import StampedeCore

/// How a worker's load generator fared in one interval: the CPU its process used against what it
/// may use, and how late a timer due every 10 ms woke (event-loop lag). The coordinator judges
/// saturation from it (`SaturationPolicy`); a generator that is the bottleneck makes the server's
/// numbers untrustworthy, so the run says so.
public struct GeneratorSample: Sendable, Equatable {
    /// Process CPU over the interval as a share of the allowance (1: all of it).
    public var cpuShare: Double
    /// Cores the process may use: the cgroup CPU quota where one is set, else the cores it sees.
    public var allowanceCores: Double
    /// Lateness of a timer due every 10 ms, µs (HDR, like every other histogram).
    public var loopLag: MetricHistogram

    public init(cpuShare: Double, allowanceCores: Double, loopLag: MetricHistogram = MetricHistogram()) {
        self.cpuShare = cpuShare
        self.allowanceCores = allowanceCores
        self.loopLag = loopLag
    }

    /// Bounds on what a peer may send (docs/protocol.md, "Limits").
    public static let maxCPUShare = 1024.0
    public static let allowanceRange = 0.001...65_536.0
}

extension GeneratorSample: Codable {
    enum CodingKeys: String, CodingKey {
        case cpuShare = "cpu_share", allowanceCores = "allowance_cores", loopLag = "loop_lag"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cpuShare = try c.decode(Double.self, forKey: .cpuShare)
        allowanceCores = try c.decode(Double.self, forKey: .allowanceCores)
        guard cpuShare.isFinite, (0...Self.maxCPUShare).contains(cpuShare) else {
            throw DecodingError.dataCorruptedError(forKey: .cpuShare, in: c, debugDescription: "cpu_share must be 0…\(Int(Self.maxCPUShare))")
        }
        guard allowanceCores.isFinite, Self.allowanceRange.contains(allowanceCores) else {
            throw DecodingError.dataCorruptedError(forKey: .allowanceCores, in: c, debugDescription: "allowance_cores out of range")
        }
        do {
            loopLag = try MetricHistogram(try c.decode(SparseHistogram.self, forKey: .loopLag))
        } catch let error as SparseHistogram.DecodeError {
            throw DecodingError.dataCorruptedError(forKey: .loopLag, in: c, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpuShare, forKey: .cpuShare)
        try c.encode(allowanceCores, forKey: .allowanceCores)
        try c.encode(loopLag.sparse, forKey: .loopLag)
    }
}

/// When a generator counts as saturated (docs/metrics.md, "Generator self-check"). An interval is
/// saturated when any threshold is reached in it; a worker when at least `minIntervals` of its
/// intervals, and at least `minShare` of them, were.
public struct SaturationPolicy: Sendable, Equatable {
    /// Process CPU at or above this share of the allowance.
    public var cpuShare = 0.9
    /// p99 lateness of the 10 ms timer at or above this, µs.
    public var loopLagP99Us: UInt64 = 10_000
    /// Open loop: p99 lag of sends behind their schedule at or above this, µs.
    public var scheduleLagP99Us: UInt64 = 10_000
    public var minIntervals = 2
    public var minShare = 0.05

    public init() {}

    /// Why the interval of `sample` (with the schedule lag of its requests) is saturated; empty when it is not.
    public func reasons(_ sample: GeneratorSample, scheduleLag: MetricHistogram) -> [String] {
        var reasons: [String] = []
        if sample.cpuShare >= cpuShare {
            reasons.append("CPU \(Int((sample.cpuShare * 100).rounded()))% of \(Self.cores(sample.allowanceCores))")
        }
        let loop = sample.loopLag.isEmpty ? 0 : sample.loopLag.value(atPercentile: 99)
        if loop >= loopLagP99Us { reasons.append("event-loop lag p99 \(Self.ms(loop))") }
        let schedule = scheduleLag.isEmpty ? 0 : scheduleLag.value(atPercentile: 99)
        if schedule >= scheduleLagP99Us { reasons.append("schedule lag p99 \(Self.ms(schedule))") }
        return reasons
    }

    /// Whether a worker with `saturated` of `sampled` intervals saturated counts as saturated.
    public func workerSaturated(saturated: Int, sampled: Int) -> Bool {
        saturated >= minIntervals && Double(saturated) >= minShare * Double(sampled)
    }

    static func cores(_ cores: Double) -> String {
        cores == cores.rounded() ? "\(Int(cores)) cores" : "\((cores * 100).rounded() / 100) cores"
    }

    static func ms(_ us: UInt64) -> String {
        "\((Double(us) / 100).rounded() / 10) ms"
    }
}
