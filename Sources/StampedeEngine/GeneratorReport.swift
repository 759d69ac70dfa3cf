import StampedeCore
import StampedeMetrics

/// The generator self-check of a run (`generator` in the JSON results): whether any worker's load
/// generator was the bottleneck, by the documented `SaturationPolicy`, and its figures per worker.
public struct GeneratorReport: Codable, Sendable, Equatable {
    public struct Worker: Codable, Sendable, Equatable {
        public var id: String
        public var saturated: Bool
        public var saturatedIntervals: Int
        public var sampledIntervals: Int
        public var allowanceCores: Double
        public var cpuShareMax: Double
        public var cpuShareMean: Double
        public var loopLagP99Ms: Double
        public var loopLagMaxMs: Double
        /// Why its intervals were saturated (distinct reasons, first seen first; at most 5).
        public var reasons: [String]
    }

    public struct Thresholds: Codable, Sendable, Equatable {
        public var cpuShare: Double
        public var loopLagP99Ms: Double
        public var scheduleLagP99Ms: Double
        public var minIntervals: Int
        public var minShare: Double
    }

    /// Whether any worker was saturated: the run's figures may be the generator's, not the server's.
    public var saturated: Bool
    /// Intervals in which at least one worker was saturated.
    public var saturatedIntervals: Int
    public var cpuShareMax: Double
    public var loopLagP99Ms: Double
    public var thresholds: Thresholds
    public var workers: [Worker]
}

/// What the coordinator has heard of one worker's generator.
struct GeneratorTally: Sendable, Equatable {
    var sampled = 0
    var saturated = 0
    var allowanceCores = 0.0
    var cpuMax = 0.0
    var cpuSum = 0.0
    /// The newest interval's CPU share (the dashboard's workers table).
    var cpuLast = 0.0
    var loopLag = MetricHistogram()
    var reasons: [String] = []
    var warned = false

    mutating func add(_ sample: GeneratorSample, reasons: [String]) {
        sampled += 1
        allowanceCores = sample.allowanceCores
        cpuMax = max(cpuMax, sample.cpuShare)
        cpuSum += sample.cpuShare
        cpuLast = sample.cpuShare
        loopLag.add(sample.loopLag)
        guard !reasons.isEmpty else { return }
        saturated += 1
        for reason in reasons {
            // "CPU 97% of 2 cores" and "CPU 95% of 2 cores" are one reason: keep the first of each kind.
            let kind = reason.prefix { !$0.isNumber }
            if reasons.count < 5, !self.reasons.contains(where: { $0.hasPrefix(kind) }) { self.reasons.append(reason) }
        }
    }
}

extension GeneratorReport {
    init(tallies: [(String, GeneratorTally)], saturatedIntervals: Int, policy: SaturationPolicy) {
        let ms = { (us: UInt64) in Double(us) / 1000 }
        workers = tallies.map { id, tally in
            Worker(id: id, saturated: policy.workerSaturated(saturated: tally.saturated, sampled: tally.sampled),
                   saturatedIntervals: tally.saturated, sampledIntervals: tally.sampled, allowanceCores: tally.allowanceCores,
                   cpuShareMax: tally.cpuMax, cpuShareMean: tally.sampled > 0 ? tally.cpuSum / Double(tally.sampled) : 0,
                   loopLagP99Ms: tally.loopLag.isEmpty ? 0 : ms(tally.loopLag.value(atPercentile: 99)),
                   loopLagMaxMs: ms(tally.loopLag.max), reasons: tally.reasons)
        }
        saturated = workers.contains { $0.saturated }
        self.saturatedIntervals = saturatedIntervals
        cpuShareMax = workers.map(\.cpuShareMax).max() ?? 0
        var merged = MetricHistogram()
        for (_, tally) in tallies { merged.add(tally.loopLag) }
        loopLagP99Ms = merged.isEmpty ? 0 : ms(merged.value(atPercentile: 99))
        thresholds = Thresholds(cpuShare: policy.cpuShare, loopLagP99Ms: ms(policy.loopLagP99Us),
                                scheduleLagP99Ms: ms(policy.scheduleLagP99Us), minIntervals: policy.minIntervals, minShare: policy.minShare)
    }
}
