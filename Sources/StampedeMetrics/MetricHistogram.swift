import Histogram

/// An HDR histogram with 3 significant digits and a fixed configuration, so that any two
/// instances merge bucket by bucket without loss.
///
/// Latencies are recorded in **microseconds**; token counts in tokens; rates in milli-units.
/// Values above `highestTrackable` are clamped to it (and counted in `clamped`).
public struct MetricHistogram: Sendable, Equatable {
    /// One hour in microseconds: the longest latency a request can record.
    public static let highestTrackable: UInt64 = 3_600_000_000

    @usableFromInline var histogram: Histogram<UInt64>
    /// Values that were above `highestTrackable` and recorded as it.
    public private(set) var clamped: UInt64 = 0

    public init() {
        histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: Self.highestTrackable,
                                      numberOfSignificantValueDigits: .three)
    }

    public var count: UInt64 { histogram.totalCount }
    public var isEmpty: Bool { histogram.totalCount == 0 }

    public mutating func record(_ value: UInt64, count: UInt64 = 1) {
        var value = value
        if value > Self.highestTrackable {
            value = Self.highestTrackable
            clamped += count
        }
        _ = histogram.record(value, count: count)
    }

    /// Records a duration in nanoseconds as whole microseconds (rounded to nearest; negatives as 0).
    public mutating func recordNanoseconds(_ nanoseconds: Int64) {
        record(UInt64(Swift.max(0, (nanoseconds + 500) / 1000)))
    }

    public mutating func add(_ other: MetricHistogram) {
        guard !other.isEmpty else { return }
        histogram.add(other.histogram)
        clamped += other.clamped
    }

    public mutating func reset() {
        histogram.reset()
        clamped = 0
    }

    public func value(atPercentile percentile: Double) -> UInt64 { histogram.valueAtPercentile(percentile) }
    public var min: UInt64 { histogram.min }
    public var max: UInt64 { histogram.max }
    public var mean: Double { histogram.mean }
    public var stddev: Double { histogram.stdDeviation }

    /// P50/P90/P95/P99 with mean, min, max and stddev, in the histogram's unit.
    public var stats: DistributionStats {
        guard !isEmpty else { return DistributionStats() }
        return DistributionStats(count: count, p50: Double(value(atPercentile: 50)), p90: Double(value(atPercentile: 90)),
                                 p95: Double(value(atPercentile: 95)), p99: Double(value(atPercentile: 99)),
                                 mean: mean, min: Double(min), max: Double(max), stddev: stddev)
    }

    // MARK: Sparse form

    /// The non-empty buckets as (value, count) pairs, each value the highest value equivalent to its bucket.
    /// Recording these pairs into an empty `MetricHistogram` rebuilds the same buckets exactly.
    public var sparse: SparseHistogram {
        var values: [UInt64] = []
        var counts: [UInt64] = []
        for bucket in histogram.recordedValues() {
            values.append(bucket.value)
            counts.append(bucket.countAddedInThisIterationStep)
        }
        return SparseHistogram(values: values, counts: counts, clamped: clamped)
    }

    public init(_ sparse: SparseHistogram) throws(SparseHistogram.DecodeError) {
        self.init()
        try add(sparse)
    }

    /// Adds a sparse delta. Rejects malformed input before changing anything.
    public mutating func add(_ sparse: SparseHistogram) throws(SparseHistogram.DecodeError) {
        try sparse.check()
        for (value, count) in zip(sparse.values, sparse.counts) where count > 0 {
            _ = histogram.record(value, count: count)
        }
        clamped += sparse.clamped
    }
}

/// P50/P90/P95/P99, mean, min, max and stddev of a distribution, in its histogram's unit.
public struct DistributionStats: Codable, Sendable, Equatable {
    public var count: UInt64 = 0
    public var p50: Double = 0
    public var p90: Double = 0
    public var p95: Double = 0
    public var p99: Double = 0
    public var mean: Double = 0
    public var min: Double = 0
    public var max: Double = 0
    public var stddev: Double = 0

    public init() {}

    public init(count: UInt64, p50: Double, p90: Double, p95: Double, p99: Double, mean: Double, min: Double, max: Double, stddev: Double) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.mean = mean
        self.min = min
        self.max = max
        self.stddev = stddev
    }

    /// The same distribution with every value multiplied by `factor` (e.g. µs → s with 1e-6).
    public func scaled(by factor: Double) -> DistributionStats {
        DistributionStats(count: count, p50: p50 * factor, p90: p90 * factor, p95: p95 * factor, p99: p99 * factor,
                          mean: mean * factor, min: min * factor, max: max * factor, stddev: stddev * factor)
    }

    public func quantile(_ name: String) -> Double? {
        switch name {
        case "p50": p50
        case "p90": p90
        case "p95": p95
        case "p99": p99
        case "mean": mean
        case "min": min
        case "max": max
        case "stddev": stddev
        default: nil
        }
    }
}
