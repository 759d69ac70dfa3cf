import StampedeCore

/// Which histograms a `MetricSet` holds, and in what unit.
public enum HistogramKey: String, Codable, Sendable, CaseIterable {
    case ttft, ttfat, e2e, itl
    case llmperfItl = "llmperf_itl"
    case chunkGap = "chunk_gap"
    case scheduleLag = "schedule_lag"
    /// Input tokens per succeeded request (server count when given).
    case inputTokens = "input_tokens"
    /// Output tokens per succeeded request.
    case outputTokens = "output_tokens"
    /// Output tokens/s per request, in milli-tokens per second.
    case outputTokensPerSecond = "output_tps"
    /// Cost per request under per-token prices, in nano-USD (so a request of a few micro-dollars
    /// keeps three significant digits; up to $3.60 a request before clamping).
    case costPerRequest = "cost_per_request"

    public var latency: LatencyMetric? { LatencyMetric(rawValue: rawValue) }

    /// The factor that turns a recorded value into its display unit (seconds for latencies).
    public var toDisplayUnit: Double {
        switch self {
        case .inputTokens, .outputTokens: 1
        case .outputTokensPerSecond: 1e-3
        case .costPerRequest: 1e-9
        default: 1e-6
        }
    }
}

/// Counters plus one HDR histogram per `HistogramKey`: everything that merges losslessly.
public struct MetricSet: Sendable, Equatable {
    public var counters = Counters()
    public var histograms: [HistogramKey: MetricHistogram] = [:]

    public init() {}

    public subscript(key: HistogramKey) -> MetricHistogram {
        histograms[key] ?? MetricHistogram()
    }

    public var isEmpty: Bool { counters.finished == 0 && histograms.values.allSatisfy(\.isEmpty) }

    /// Adds one finished request: its counters and every metric that applies to it.
    public mutating func record(_ r: RequestRecord) {
        counters.add(r)
        record(.scheduleLag, nanoseconds: RequestMetrics.scheduleLag(r))
        guard r.succeeded else { return }
        if let v = RequestMetrics.ttft(r) { record(.ttft, nanoseconds: v) }
        if let v = RequestMetrics.ttfat(r) { record(.ttfat, nanoseconds: v) }
        if let v = RequestMetrics.e2e(r) { record(.e2e, nanoseconds: v) }
        if let v = RequestMetrics.itl(r) { record(.itl, nanoseconds: v) }
        if let v = RequestMetrics.llmperfItl(r) { record(.llmperfItl, nanoseconds: v) }
        let gaps = RequestMetrics.chunkGaps(r)
        if !gaps.isEmpty {
            histograms[.chunkGap, default: MetricHistogram()].recordGaps(gaps)
        }
        histograms[.inputTokens, default: MetricHistogram()].record(UInt64(max(0, r.inputTokens)))
        histograms[.outputTokens, default: MetricHistogram()].record(UInt64(max(0, r.outputTokens)))
        if let cost = r.costMicroUSD, cost.isFinite, cost >= 0 {
            histograms[.costPerRequest, default: MetricHistogram()].record(rounding: cost * 1000)
        }
        if let tps = RequestMetrics.outputTokensPerSecond(r) {
            histograms[.outputTokensPerSecond, default: MetricHistogram()].record(rounding: tps * 1000)
        }
    }

    private mutating func record(_ key: HistogramKey, nanoseconds: Int64) {
        histograms[key, default: MetricHistogram()].recordNanoseconds(nanoseconds)
    }

    public mutating func add(_ other: MetricSet) {
        counters.add(other.counters)
        for (key, histogram) in other.histograms {
            histograms[key, default: MetricHistogram()].add(histogram)
        }
    }

    // MARK: Wire form

    public var wire: WireMetricSet {
        var sparse: [String: SparseHistogram] = [:]
        for (key, histogram) in histograms where !histogram.isEmpty { sparse[key.rawValue] = histogram.sparse }
        return WireMetricSet(counters: counters, histograms: sparse)
    }

    /// Rebuilds a set from its wire form, validating everything first.
    public init(wire: WireMetricSet) throws(MetricSetError) {
        try wire.counters.check()
        var histograms: [HistogramKey: MetricHistogram] = [:]
        for (name, sparse) in wire.histograms {
            guard let key = HistogramKey(rawValue: name) else { throw .invalid("unknown histogram '\(name)'") }
            do { histograms[key] = try MetricHistogram(sparse) } catch { throw .histogram(name, error) }
        }
        self.counters = wire.counters
        self.histograms = histograms
    }
}

extension MetricHistogram {
    mutating func recordGaps(_ gaps: [Int64]) {
        for gap in gaps { recordNanoseconds(gap) }
    }
}

/// `MetricSet` as it travels: counters and sparse histograms keyed by `HistogramKey` raw value.
public struct WireMetricSet: Codable, Sendable, Equatable {
    public var counters: Counters
    public var histograms: [String: SparseHistogram]

    public init(counters: Counters = Counters(), histograms: [String: SparseHistogram] = [:]) {
        self.counters = counters
        self.histograms = histograms
    }
}
