import StampedeCore

/// Which histograms a `MetricSet` holds, and in what unit: one per `LatencyMetric` (in µs), then the
/// per-request token counts, output rate and cost. The latency keys are the `LatencyMetric`s themselves,
/// so a latency metric added in StampedeCore gets its histogram, its wire name and its summary here.
public enum HistogramKey: Hashable, Sendable, CaseIterable, RawRepresentable {
    /// A latency, in microseconds; its name is the metric's (`ttft`, `e2e`, `llmperf_itl` …).
    case latency(LatencyMetric)
    /// Input tokens per succeeded request (server count when given).
    case inputTokens
    /// Output tokens per succeeded request.
    case outputTokens
    /// Input plus output tokens per succeeded request (LLMPerf's `number_total_tokens`).
    case totalTokens
    /// Output tokens/s per request, in milli-tokens per second.
    case outputTokensPerSecond
    /// Cost per request under per-token prices, in nano-USD (so a request of a few micro-dollars
    /// keeps three significant digits; up to $3.60 a request before clamping).
    case costPerRequest

    /// Every key: the latencies in `LatencyMetric` order, then the others.
    public static let allCases: [HistogramKey] =
        LatencyMetric.allCases.map(HistogramKey.latency) + [.inputTokens, .outputTokens, .totalTokens, .outputTokensPerSecond, .costPerRequest]

    /// The name on the wire (`WireMetricSet`) and in reports.
    public var rawValue: String {
        switch self {
        case .latency(let metric): metric.rawValue
        case .inputTokens: "input_tokens"
        case .outputTokens: "output_tokens"
        case .totalTokens: "total_tokens"
        case .outputTokensPerSecond: "output_tps"
        case .costPerRequest: "cost_per_request"
        }
    }

    public init?(rawValue: String) {
        if let metric = LatencyMetric(rawValue: rawValue) {
            self = .latency(metric)
            return
        }
        guard let key = Self.others.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = key
    }

    private static let others: [HistogramKey] = [.inputTokens, .outputTokens, .totalTokens, .outputTokensPerSecond, .costPerRequest]

    public var latency: LatencyMetric? {
        if case .latency(let metric) = self { return metric }
        return nil
    }

    /// The factor that turns a recorded value into its display unit (seconds for latencies).
    public var toDisplayUnit: Double {
        switch self {
        case .latency: 1e-6
        case .inputTokens, .outputTokens, .totalTokens: 1
        case .outputTokensPerSecond: 1e-3
        case .costPerRequest: 1e-9
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

    /// The histogram of a latency metric.
    public subscript(metric: LatencyMetric) -> MetricHistogram {
        self[.latency(metric)]
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
            histograms[.latency(.chunkGap), default: MetricHistogram()].recordGaps(gaps)
        }
        histograms[.inputTokens, default: MetricHistogram()].record(UInt64(max(0, r.inputTokens)))
        histograms[.outputTokens, default: MetricHistogram()].record(UInt64(max(0, r.outputTokens)))
        histograms[.totalTokens, default: MetricHistogram()].record(UInt64(max(0, r.inputTokens.saturatingAdd(r.outputTokens))))
        if let cost = r.costMicroUSD, cost.isFinite, cost >= 0 {
            histograms[.costPerRequest, default: MetricHistogram()].record(rounding: cost * 1000)
        }
        if let tps = RequestMetrics.outputTokensPerSecond(r) {
            histograms[.outputTokensPerSecond, default: MetricHistogram()].record(rounding: tps * 1000)
        }
    }

    private mutating func record(_ metric: LatencyMetric, nanoseconds: Int64) {
        histograms[.latency(metric), default: MetricHistogram()].recordNanoseconds(nanoseconds)
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
