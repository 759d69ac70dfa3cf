import StampedeCore

/// One point of the 1-second time series.
public struct IntervalPoint: Codable, Sendable, Equatable {
    public var interval: Int
    /// Interval start, seconds on the run clock.
    public var startSeconds: Double
    public var users: Int
    public var inFlight: Int
    public var finished: Int
    public var succeeded: Int
    public var failed: Int
    public var throttled: Int
    public var inputTokens: Int
    public var outputTokens: Int
    /// Latency quantiles of the requests that finished in this interval, seconds, keyed "ttft_p50", "e2e_p90", …
    /// (p50, p90, p95, p99 of TTFT, ITL and E2E; E2E also at Locust's p66, p75, p80, p98, p99.9, p99.99 and p100).
    /// "e2e_total_p50", "e2e_total_mean", "e2e_total_min" and "e2e_total_max" describe every request that finished
    /// up to the end of this interval (Locust's "Total … Response Time" columns).
    public var latency: [String: Double]
    /// Whether any worker's load generator was saturated in this interval (nil: no self-check reported).
    public var generatorSaturated: Bool? = nil
    /// The highest CPU share of its allowance any worker's generator used in this interval.
    public var generatorCPUShare: Double? = nil
    /// Failed requests of this interval per `ErrorClass` raw value.
    public var errorsByClass: [String: Int] = [:]

    public var requestsPerSecond: Double { Double(finished) }
    public var outputTokensPerSecond: Double { Double(outputTokens) }
}

/// Merges worker deltas into run totals, per-stage totals, per-worker totals and a time series.
/// A value type: the coordinator owns one and serialises access to it.
public struct MetricsAggregator: Sendable {
    public struct WorkerTally: Sendable, Equatable {
        public var lastSeq: UInt64?
        public var counters = Counters()
        public var users = 0
        public var inFlight = 0
        public var exhausted = false
        public var finalReceived = false
    }

    public enum Outcome: Equatable, Sendable {
        case applied
        /// A seq at or below one already applied: ignored, so nothing is counted twice.
        case duplicate
    }

    public let intervalNs: Int64
    public private(set) var total = MetricSet()
    public private(set) var stages: [Int: MetricSet] = [:]
    public private(set) var workers: [String: WorkerTally] = [:]
    private var open: [Int: (set: MetricSet, users: [String: Int], inFlight: [String: Int])] = [:]
    private var closed: [Int: IntervalPoint] = [:]
    private var lastClosedIndex: Int?
    /// E2E of every interval closed so far (for the running totals of each point).
    private var closedE2E = MetricHistogram()

    public init(intervalNs: Int64 = 1_000_000_000) {
        self.intervalNs = intervalNs
    }

    @discardableResult
    public mutating func apply(_ delta: IntervalDelta) -> Outcome {
        var tally = workers[delta.worker] ?? WorkerTally()
        if let last = tally.lastSeq, delta.seq <= last { return .duplicate }
        tally.lastSeq = delta.seq
        tally.users = delta.users
        tally.inFlight = delta.inFlight
        tally.exhausted = delta.exhausted
        tally.finalReceived = tally.finalReceived || delta.final
        let merged = delta.merged
        tally.counters.add(merged.counters)
        workers[delta.worker] = tally
        total.add(merged)
        for (stage, set) in delta.stages { stages[stage, default: MetricSet()].add(set) }

        if var point = closed[delta.interval] {
            // Late delta for an interval already reduced: counters still count; quantiles stay as they were.
            let c = merged.counters
            point.finished &+|= c.finished
            point.succeeded &+|= c.succeeded
            point.failed &+|= c.failed
            point.throttled &+|= c.throttled
            point.inputTokens &+|= c.inputTokens
            point.outputTokens &+|= c.outputTokens
            point.errorsByClass.addSaturating(c.errorsByClass)
            closed[delta.interval] = point
        } else {
            var entry = open[delta.interval] ?? (MetricSet(), [:], [:])
            entry.set.add(merged)
            entry.users[delta.worker] = delta.users
            entry.inFlight[delta.worker] = delta.inFlight
            open[delta.interval] = entry
        }
        return .applied
    }

    /// A worker came back on a new connection and starts a new generator, whose `seq` counts from 0
    /// again. Its totals so far stay (counted once); its seq, state and flags start afresh.
    public mutating func rejoin(worker: String) {
        guard var tally = workers[worker] else { return }
        tally.lastSeq = nil
        tally.users = 0
        tally.inFlight = 0
        tally.exhausted = false
        tally.finalReceived = false
        workers[worker] = tally
    }

    /// Marks a worker as gone: its totals stay, it no longer counts as running users.
    public mutating func forget(worker: String) {
        workers[worker]?.users = 0
        workers[worker]?.inFlight = 0
    }

    /// Reduces every open interval below `interval` to its point and drops its histograms.
    public mutating func close(intervalsBefore interval: Int) {
        for index in open.keys.filter({ $0 < interval }).sorted() {
            let entry = open.removeValue(forKey: index)!
            var point = Self.point(index: index, intervalNs: intervalNs, entry.set,
                                   users: entry.users.values.reduce(0, &+|), inFlight: entry.inFlight.values.reduce(0, &+|))
            closedE2E.add(entry.set[.e2e])
            if !closedE2E.isEmpty {
                let total = closedE2E.stats.scaled(by: HistogramKey.latency(.e2e).toDisplayUnit)
                point.latency["e2e_total_p50"] = total.p50
                point.latency["e2e_total_mean"] = total.mean
                point.latency["e2e_total_min"] = total.min
                point.latency["e2e_total_max"] = total.max
            }
            closed[index] = point
            lastClosedIndex = max(lastClosedIndex ?? index, index)
        }
    }

    public mutating func closeAll() { close(intervalsBefore: Int.max) }

    /// The newest closed point (what `series.last` would be, without building the series).
    public var lastClosed: IntervalPoint? {
        guard let last = lastClosedIndex else { return nil }
        return closed[last]
    }

    /// The closed points in order, with empty intervals filled in as zeros.
    public var series: [IntervalPoint] {
        guard let last = closed.keys.max() else { return [] }
        var previousUsers = 0
        return (0...last).map { index in
            if let point = closed[index] {
                previousUsers = point.users
                return point
            }
            var empty = Self.point(index: index, intervalNs: intervalNs, MetricSet(), users: previousUsers, inFlight: 0)
            empty.users = previousUsers
            return empty
        }
    }

    static func point(index: Int, intervalNs: Int64, _ set: MetricSet, users: Int, inFlight: Int) -> IntervalPoint {
        var latency: [String: Double] = [:]
        for key in [LatencyMetric.ttft, .itl, .e2e].map(HistogramKey.latency) {
            let histogram = set[key]
            guard !histogram.isEmpty else { continue }
            let dense = histogram.dense
            for p in key == .latency(.e2e) ? locustPercentiles : [50, 90, 95, 99] {
                let value = p >= 100 ? histogram.max : dense.valueAtPercentile(p)
                latency["\(key.rawValue)_p\(percentileLabel(p))"] = Double(value) * key.toDisplayUnit
            }
        }
        let c = set.counters
        return IntervalPoint(interval: index, startSeconds: Double(Int64(index) * intervalNs) / 1e9, users: users, inFlight: inFlight,
                             finished: c.finished, succeeded: c.succeeded, failed: c.failed, throttled: c.throttled,
                             inputTokens: c.inputTokens, outputTokens: c.outputTokens, latency: latency, errorsByClass: c.errorsByClass)
    }

    /// The percentiles Locust reports (its CSV columns "50%" … "100%").
    public static let locustPercentiles: [Double] = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100]

    /// "50", "99.9": a percentile as it appears in keys and column names.
    public static func percentileLabel(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(p)
    }
}
