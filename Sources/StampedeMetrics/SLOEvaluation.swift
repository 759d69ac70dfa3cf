import StampedeCore

/// The verdict of an SLO on a run's merged stats: every clause with its measured value, and goodput.
public struct SLOResult: Codable, Sendable, Equatable {
    /// The expression as written.
    public var expression: String
    /// Every clause passed.
    public var passed: Bool
    public var clauses: [SLOClauseResult]
    /// Per-request goodput, when the SLO has at least one per-request (latency) bound.
    public var goodput: Goodput?

    public init(passed: Bool, expression: String = "", clauses: [SLOClauseResult] = [], goodput: Goodput? = nil) {
        self.passed = passed
        self.expression = expression
        self.clauses = clauses
        self.goodput = goodput
    }

    /// The clauses that failed.
    public var failedClauses: [SLOClauseResult] { clauses.filter { !$0.passed } }

    /// Evaluates every clause on the merged stats of all workers. A clause whose metric has no
    /// samples (e.g. TTFT when no request succeeded) cannot be shown to hold, so it fails with
    /// `measured` nil.
    public static func evaluate(_ slo: SLO, summary: StatsSummary) -> SLOResult {
        let clauses = slo.clauses.map { clause -> SLOClauseResult in
            let measured = measure(clause.metric, summary)
            return SLOClauseResult(expression: clause.text, metric: clause.metric.name, op: clause.op.rawValue,
                                   threshold: clause.threshold, unit: clause.metric.unit, measured: measured,
                                   passed: measured.map { clause.holds($0) } ?? false)
        }
        let goodput = slo.definesGoodput ? Goodput(summary) : nil
        // A malformed SLO (never let through by validation) fails rather than passing silently.
        let passed = slo.problem == nil && clauses.allSatisfy(\.passed)
        return SLOResult(passed: passed, expression: slo.expression, clauses: clauses, goodput: goodput)
    }

    /// The run-level value of `metric`, in its base unit; nil when there is nothing to measure.
    public static func measure(_ metric: SLOMetric, _ summary: StatsSummary) -> Double? {
        let finished = Double(summary.requestsFinished)
        switch metric {
        case .latency(let latency, let stat):
            let distribution = summary[latency]
            guard distribution.count > 0 else { return nil }
            return distribution.quantile(stat.rawValue)
        case .errorRate:
            return finished > 0 ? Double(summary.requestsFailed) / finished : nil
        case .throttledRate:
            return finished > 0 ? Double(summary.throttled) / finished : nil
        case .goodputRate:
            return finished > 0 ? Double(summary.goodputRequests) / finished : nil
        case .requestsPerSecond:
            return summary.requestsPerSecond
        case .outputTokensPerSecond:
            return summary.outputTokensPerSecond
        case .inputTokensPerSecond:
            return summary.inputTokensPerSecond
        case .goodputPerSecond:
            return summary.goodputPerSecond
        }
    }
}

/// One clause's verdict. `threshold` and `measured` are in `unit` (`s`, `fraction`, `requests/s`, `tokens/s`).
public struct SLOClauseResult: Codable, Sendable, Equatable {
    /// The clause as written, e.g. `ttft_p90<=2s`.
    public var expression: String
    /// The metric's name, e.g. `ttft_p90`.
    public var metric: String
    /// `<=`, `<`, `>=` or `>`.
    public var op: String
    public var threshold: Double
    public var unit: String
    /// The run's value; nil when the metric had no samples (the clause then fails).
    public var measured: Double?
    public var passed: Bool

    public init(expression: String, metric: String, op: String, threshold: Double, unit: String, measured: Double?, passed: Bool) {
        self.expression = expression
        self.metric = metric
        self.op = op
        self.threshold = threshold
        self.unit = unit
        self.measured = measured
        self.passed = passed
    }
}

/// Requests that met every per-request bound of the SLO.
public struct Goodput: Codable, Sendable, Equatable {
    /// Good requests: succeeded and within every per-request bound.
    public var requests: Int
    /// Finished requests (failed ones included: a failed request is not good).
    public var finished: Int
    /// requests / finished (0 when nothing finished).
    public var share: Double
    /// requests / duration.
    public var perSecond: Double

    public init(requests: Int, finished: Int, share: Double, perSecond: Double) {
        self.requests = requests
        self.finished = finished
        self.share = share
        self.perSecond = perSecond
    }

    public init(_ summary: StatsSummary) {
        self.init(requests: summary.goodputRequests, finished: summary.requestsFinished,
                  share: summary.requestsFinished > 0 ? Double(summary.goodputRequests) / Double(summary.requestsFinished) : 0,
                  perSecond: summary.goodputPerSecond)
    }
}
