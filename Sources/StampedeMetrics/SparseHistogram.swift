import StampedeCore

/// The wire form of a `MetricHistogram` delta: only non-empty buckets, as parallel arrays of
/// bucket values (ascending) and counts. JSON: `{"v":[…],"c":[…]}` plus `"x"` for clamped values and
/// `"lo"`/`"hi"` for the exact smallest and largest values recorded (buckets only hold them to 0.1%).
public struct SparseHistogram: Codable, Sendable, Equatable {
    public var values: [UInt64]
    public var counts: [UInt64]
    public var clamped: UInt64
    /// The exact extremes (nil from a peer that does not send them: the buckets' bounds are used).
    public var min: UInt64?
    public var max: UInt64?

    public init(values: [UInt64] = [], counts: [UInt64] = [], clamped: UInt64 = 0, min: UInt64? = nil, max: UInt64? = nil) {
        self.values = values
        self.counts = counts
        self.clamped = clamped
        self.min = min
        self.max = max
    }

    public var isEmpty: Bool { values.isEmpty }
    public var totalCount: UInt64 { counts.reduce(0, &+|) }

    enum CodingKeys: String, CodingKey {
        case values = "v"
        case counts = "c"
        case clamped = "x"
        case min = "lo"
        case max = "hi"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        values = try container.decodeIfPresent([UInt64].self, forKey: .values) ?? []
        counts = try container.decodeIfPresent([UInt64].self, forKey: .counts) ?? []
        clamped = try container.decodeIfPresent(UInt64.self, forKey: .clamped) ?? 0
        min = try container.decodeIfPresent(UInt64.self, forKey: .min)
        max = try container.decodeIfPresent(UInt64.self, forKey: .max)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(values, forKey: .values)
        try container.encode(counts, forKey: .counts)
        if clamped > 0 { try container.encode(clamped, forKey: .clamped) }
        try container.encodeIfPresent(min, forKey: .min)
        try container.encodeIfPresent(max, forKey: .max)
    }

    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case lengthMismatch(values: Int, counts: Int)
        case valueOutOfRange(UInt64)
        case notAscending
        case tooManyBuckets(Int)
        case countOutOfRange
        case extremesOutsideBuckets

        public var description: String {
            switch self {
            case .lengthMismatch(let v, let c): "histogram has \(v) values but \(c) counts"
            case .valueOutOfRange(let v): "histogram value \(v) is above the trackable maximum \(MetricHistogram.highestTrackable)"
            case .notAscending: "histogram values are not strictly ascending"
            case .tooManyBuckets(let n): "histogram has \(n) buckets, more than the \(SparseHistogram.maxBuckets) a histogram can have"
            case .countOutOfRange: "histogram counts (or clamped) above \(SparseHistogram.maxTotalCount) in one delta"
            case .extremesOutsideBuckets: "histogram min/max (lo/hi) do not lie in its lowest and highest buckets"
            }
        }
    }

    /// More buckets than the HDR configuration has (about 23,000) cannot come from an honest peer.
    public static let maxBuckets = 32_768
    /// The most samples one delta's histogram may carry (2^48), so sums of deltas cannot overflow.
    public static let maxTotalCount: UInt64 = 1 << 48

    /// Validates a peer's histogram before it touches any state. Never traps, whatever the numbers.
    public func check() throws(DecodeError) {
        guard values.count == counts.count else { throw .lengthMismatch(values: values.count, counts: counts.count) }
        guard values.count <= Self.maxBuckets else { throw .tooManyBuckets(values.count) }
        var total: UInt64 = 0
        for n in counts {
            total = total &+| n
            guard total <= Self.maxTotalCount else { throw .countOutOfRange }
        }
        guard clamped <= total else { throw .countOutOfRange }
        var previous: UInt64?
        for value in values {
            guard value <= MetricHistogram.highestTrackable else { throw .valueOutOfRange(value) }
            if let previous, value <= previous { throw .notAscending }
            previous = value
        }
        // The extremes must be values of the lowest and highest non-empty buckets (or absent, both or each).
        let occupied = zip(values, counts).filter { $0.1 > 0 }.map(\.0)
        if let min {
            guard let lowest = occupied.first, min <= MetricHistogram.highestTrackable,
                  MetricHistogram.template.highestEquivalentForValue(min) == MetricHistogram.template.highestEquivalentForValue(lowest) else {
                throw .extremesOutsideBuckets
            }
        }
        if let max {
            guard let highest = occupied.last, max <= MetricHistogram.highestTrackable,
                  MetricHistogram.template.highestEquivalentForValue(max) == MetricHistogram.template.highestEquivalentForValue(highest) else {
                throw .extremesOutsideBuckets
            }
        }
    }
}
