import StampedeCore

/// The reported numbers for one block of requests (the whole run, or one stage).
/// Latencies are in seconds; every formula is named in `docs/metrics.md` and in `formulas`.
public struct StatsSummary: Codable, Sendable, Equatable {
    /// Measurement window in seconds (first user started → load stopped).
    public var durationSeconds: Double
    public var requestsFinished: Int
    public var requestsSucceeded: Int
    public var requestsFailed: Int
    public var errorRate: Double
    public var errorsByClass: [String: Int]
    public var lastErrorMessages: [String: String]
    public var statusCodes: [String: Int]
    public var throttled: Int
    /// finished / duration.
    public var requestsPerSecond: Double
    /// succeeded × 60 / duration.
    public var completedRequestsPerMinute: Double
    /// Σ input tokens of succeeded requests / duration.
    public var inputTokensPerSecond: Double
    /// Σ output tokens of succeeded requests / duration.
    public var outputTokensPerSecond: Double
    /// (Σ (end − send) over finished requests + Σ (stop − send) over requests in flight at the stop) / duration
    /// (Little's law).
    public var achievedConcurrency: Double
    public var inputTokensTotal: Int
    public var inputTokensEstimateTotal: Int
    public var outputTokensTotal: Int
    public var tokenSources: [String: Int]
    /// Finished requests whose answer was short (`Counters.shortOutputs`).
    public var shortOutputs: Int
    /// passed / checked, when the correctness check ran.
    public var correctnessPassRate: Double?
    public var correctnessChecked: Int
    /// Latency distributions in seconds, keyed by `LatencyMetric` raw value.
    public var latency: [String: DistributionStats]
    /// Per-request token counts.
    public var inputTokens: DistributionStats
    public var outputTokens: DistributionStats
    /// Output tokens/s of each request (output tokens / E2E).
    public var outputTokensPerSecondPerRequest: DistributionStats
    /// Succeeded requests that met every per-request SLO bound, and their rate (goodput / duration).
    public var goodputRequests: Int
    public var goodputPerSecond: Double
    /// Open-loop arrivals dropped at the concurrency cap.
    public var droppedArrivals: Int
    /// Cost per request under per-token prices, USD.
    public var costPerRequest: DistributionStats

    public init(_ set: MetricSet, durationSeconds: Double) {
        let c = set.counters
        let duration = max(durationSeconds, 1e-9)
        self.durationSeconds = durationSeconds
        requestsFinished = c.finished
        requestsSucceeded = c.succeeded
        requestsFailed = c.failed
        errorRate = c.finished > 0 ? Double(c.failed) / Double(c.finished) : 0
        errorsByClass = c.errorsByClass
        lastErrorMessages = c.lastErrorMessages
        statusCodes = c.statusCodes
        throttled = c.throttled
        requestsPerSecond = Double(c.finished) / duration
        completedRequestsPerMinute = Double(c.succeeded) * 60 / duration
        inputTokensPerSecond = Double(c.inputTokens) / duration
        outputTokensPerSecond = Double(c.outputTokens) / duration
        achievedConcurrency = Double(c.busyNanoseconds) / 1e9 / duration
        inputTokensTotal = c.inputTokens
        inputTokensEstimateTotal = c.inputTokensEstimate
        outputTokensTotal = c.outputTokens
        tokenSources = c.tokenSources
        shortOutputs = c.shortOutputs
        correctnessChecked = c.correctnessChecked
        correctnessPassRate = c.correctnessChecked > 0 ? Double(c.correctnessPassed) / Double(c.correctnessChecked) : nil
        var latency: [String: DistributionStats] = [:]
        for metric in LatencyMetric.allCases {
            let key = HistogramKey.latency(metric)
            latency[key.rawValue] = set[key].stats.scaled(by: key.toDisplayUnit)
        }
        self.latency = latency
        inputTokens = set[.inputTokens].stats
        outputTokens = set[.outputTokens].stats
        outputTokensPerSecondPerRequest = set[.outputTokensPerSecond].stats.scaled(by: HistogramKey.outputTokensPerSecond.toDisplayUnit)
        goodputRequests = c.goodput
        goodputPerSecond = Double(c.goodput) / duration
        droppedArrivals = c.droppedArrivals
        costPerRequest = set[.costPerRequest].stats.scaled(by: HistogramKey.costPerRequest.toDisplayUnit)
    }

    public subscript(metric: LatencyMetric) -> DistributionStats {
        latency[metric.rawValue] ?? DistributionStats()
    }

    /// The formula behind each aggregate, as printed in reports.
    public static let aggregateFormulas: [(name: String, formula: String)] = [
        ("requests_per_s", "finished requests / duration"),
        ("completed_requests_per_min", "succeeded requests x 60 / duration"),
        ("input_tokens_per_s", "sum of input tokens of succeeded requests / duration"),
        ("output_tokens_per_s", "sum of output tokens of succeeded requests / duration"),
        ("achieved_concurrency", "(sum of (end - send) over finished requests + sum of (stop - send) over requests in flight at the stop) / duration"),
        ("error_rate", "failed requests / finished requests"),
        ("output_tps_per_request", "output tokens / E2E, per request"),
    ]
}
