import Histogram
import StampedeCore

/// An HDR histogram with 3 significant digits and a fixed configuration, so that any two
/// instances merge bucket by bucket without loss.
///
/// Latencies are recorded in **microseconds**; token counts in tokens; rates in milli-units.
/// Values above `highestTrackable` are clamped to it (and counted in `clamped`).
///
/// Storage: a dense HDR counts array for this range is ~190 KB, while a one-second delta usually
/// fills a handful of buckets. So a histogram starts **sparse** (bucket → count) and turns dense
/// only past `denseThreshold` buckets. Every value is normalised to its bucket's highest equivalent
/// value on the way in, so both forms hold exactly the same buckets and every statistic is computed
/// from the dense form: results never depend on which form, or which merge order, was used.
public struct MetricHistogram: Sendable, Equatable {
    /// One hour in microseconds: the longest latency a request can record.
    public static let highestTrackable: UInt64 = 3_600_000_000
    /// Distinct buckets above which the sparse form becomes dense.
    static let denseThreshold = 1024

    /// The configuration every instance shares; used to normalise values and to build dense forms.
    static let template = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: highestTrackable,
                                            numberOfSignificantValueDigits: .three)

    enum Storage: Sendable, Equatable {
        case sparse([UInt64: UInt64])
        case dense(Histogram<UInt64>)
    }

    var storage: Storage = .sparse([:])
    /// Values that were above `highestTrackable` and recorded as it.
    public private(set) var clamped: UInt64 = 0
    public private(set) var count: UInt64 = 0
    /// The exact smallest and largest values recorded (after clamping), kept beside the buckets,
    /// which hold them only to within 0.1%: reported min and max are the true extremes.
    public private(set) var exactMin: UInt64?
    public private(set) var exactMax: UInt64?

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public static func == (lhs: MetricHistogram, rhs: MetricHistogram) -> Bool {
        lhs.count == rhs.count && lhs.clamped == rhs.clamped && lhs.sparse == rhs.sparse
    }

    public mutating func record(_ value: UInt64, count: UInt64 = 1) {
        guard count > 0 else { return }
        var value = value
        if value > Self.highestTrackable {
            value = Self.highestTrackable
            clamped = clamped &+| count
        }
        guard recordBucket(Self.template.highestEquivalentForValue(value), count: count) else { return }
        noteExtremes(min: value, max: value)
    }

    /// Records a duration in nanoseconds as whole microseconds (rounded to nearest; negatives as 0).
    public mutating func recordNanoseconds(_ nanoseconds: Int64) {
        record(UInt64(Swift.max(0, nanoseconds.saturatingAdd(500) / 1000)))
    }

    /// Records `value` rounded to a whole number: negatives and NaN as 0, values past `UInt64`'s
    /// range as its maximum (then clamped like any value above `highestTrackable`). For rates and
    /// costs computed from a target's numbers, which can be anything.
    public mutating func record(rounding value: Double) {
        record(Self.wholeNumber(value))
    }

    static func wholeNumber(_ value: Double) -> UInt64 {
        let rounded = value.rounded()
        guard rounded > 0 else { return 0 }   // also NaN
        return rounded < 18_446_744_073_709_551_616.0 ? UInt64(rounded) : .max
    }

    /// The most samples one histogram holds (2^62). Samples past it are dropped, so that neither
    /// this count nor the HDR library's own counts can overflow, whatever a peer sends.
    public static let maxCount: UInt64 = 1 << 62

    private mutating func noteExtremes(min: UInt64?, max: UInt64?) {
        if let min { exactMin = Swift.min(exactMin ?? min, min) }
        if let max { exactMax = Swift.max(exactMax ?? max, max) }
    }

    /// `value` must already be a bucket's highest equivalent value. False when nothing was recorded
    /// (the histogram is full).
    @discardableResult
    private mutating func recordBucket(_ value: UInt64, count: UInt64) -> Bool {
        let count = Swift.min(count, Self.maxCount - self.count)
        guard count > 0 else { return false }
        self.count += count
        switch storage {
        case .sparse(var buckets):
            storage = .sparse([:])   // keep `buckets` uniquely referenced while mutating
            buckets[value, default: 0] += count
            if buckets.count > Self.denseThreshold {
                storage = .dense(Self.densify(buckets))
            } else {
                storage = .sparse(buckets)
            }
        case .dense(var histogram):
            storage = .sparse([:])
            _ = histogram.record(value, count: count)
            storage = .dense(histogram)
        }
        return true
    }

    public mutating func add(_ other: MetricHistogram) {
        guard !other.isEmpty else { return }
        switch other.storage {
        case .sparse(let buckets):
            for (value, n) in buckets { recordBucket(value, count: n) }
        case .dense(let histogram):
            for bucket in histogram.recordedValues() { recordBucket(bucket.value, count: bucket.countAddedInThisIterationStep) }
        }
        clamped = Swift.min(clamped &+| other.clamped, count)
        noteExtremes(min: other.exactMin, max: other.exactMax)
    }

    public mutating func reset() { self = MetricHistogram() }

    static func densify(_ buckets: [UInt64: UInt64]) -> Histogram<UInt64> {
        var histogram = template
        for (value, n) in buckets { _ = histogram.record(value, count: n) }
        return histogram
    }

    /// The dense form, for statistics.
    var dense: Histogram<UInt64> {
        switch storage {
        case .sparse(let buckets): Self.densify(buckets)
        case .dense(let histogram): histogram
        }
    }

    public func value(atPercentile percentile: Double) -> UInt64 { dense.valueAtPercentile(percentile) }
    public var min: UInt64 { isEmpty ? 0 : exactMin ?? dense.min }
    public var max: UInt64 { isEmpty ? 0 : exactMax ?? dense.max }
    /// From the buckets (within 0.1%), kept within the exact extremes.
    public var mean: Double { isEmpty ? 0 : Swift.min(Swift.max(dense.mean, Double(min)), Double(max)) }
    public var stddev: Double { isEmpty ? 0 : dense.stdDeviation }

    /// P50/P90/P95/P99 with mean, min, max and stddev, in the histogram's unit.
    public var stats: DistributionStats {
        guard !isEmpty else { return DistributionStats() }
        let h = dense
        let low = Double(exactMin ?? h.min)
        let high = Double(exactMax ?? h.max)
        return DistributionStats(count: count, p50: Double(h.valueAtPercentile(50)), p90: Double(h.valueAtPercentile(90)),
                                 p95: Double(h.valueAtPercentile(95)), p99: Double(h.valueAtPercentile(99)),
                                 mean: Swift.min(Swift.max(h.mean, low), high), min: low, max: high, stddev: h.stdDeviation)
    }

    // MARK: Sparse form

    /// The non-empty buckets as (value, count) pairs, ascending, each value the highest value
    /// equivalent to its bucket. Recording these pairs into an empty `MetricHistogram` rebuilds the
    /// same buckets exactly.
    public var sparse: SparseHistogram {
        var values: [UInt64] = []
        var counts: [UInt64] = []
        switch storage {
        case .sparse(let buckets):
            for (value, n) in buckets.sorted(by: { $0.key < $1.key }) {
                values.append(value)
                counts.append(n)
            }
        case .dense(let histogram):
            for bucket in histogram.recordedValues() {
                values.append(bucket.value)
                counts.append(bucket.countAddedInThisIterationStep)
            }
        }
        return SparseHistogram(values: values, counts: counts, clamped: clamped, min: exactMin, max: exactMax)
    }

    public init(_ sparse: SparseHistogram) throws(SparseHistogram.DecodeError) {
        self.init()
        try add(sparse)
    }

    /// Adds a sparse delta. Rejects malformed input before changing anything.
    public mutating func add(_ sparse: SparseHistogram) throws(SparseHistogram.DecodeError) {
        try sparse.check()
        for (value, n) in zip(sparse.values, sparse.counts) where n > 0 {
            recordBucket(Self.template.highestEquivalentForValue(value), count: n)
        }
        clamped = Swift.min(clamped &+| sparse.clamped, count)
        // A peer that does not send the extremes: its buckets' bounds stand in for them.
        let occupied = zip(sparse.values, sparse.counts).filter { $0.1 > 0 }.map(\.0)
        noteExtremes(min: sparse.min ?? occupied.first.map { Self.template.lowestEquivalentForValue($0) },
                     max: sparse.max ?? occupied.last.map { Self.template.highestEquivalentForValue($0) })
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
