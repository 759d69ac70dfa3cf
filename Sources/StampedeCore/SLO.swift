/// Service-level thresholds such as `ttft_p90<=2s,itl_p95<=80ms,e2e_p99<=30s,error_rate<=1%`
/// (issue: SLOs). The expression is parsed once into `clauses`; `validate()` reports a bad one.
///
/// Grammar (docs/metrics.md, "SLOs and goodput"): comma-separated clauses `metric op value`.
/// - Latency clauses `<key>_<stat> <=|< <duration>`: `key` is a `LatencyMetric` key (`ttft`, `ttfat`,
///   `e2e`, `itl`, `llmperf_itl`, `chunk_gap`, `schedule_lag`), `stat` one of `p50 p90 p95 p99 mean max`.
///   The duration is written in the grammar of every duration flag (`DurationParsing`: `80ms`, `2s`,
///   `1.5m`, `1h`, `1h30m`), except that it needs a unit (a bare number is rejected).
/// - Rate clauses `error_rate`, `throttled_rate` (`<=`/`<`) and `goodput_rate` (`>=`/`>`): a percentage
///   (`1%`) or a fraction in [0, 1] (`0.01`).
/// - Throughput clauses `requests_per_s`, `output_tokens_per_s`, `input_tokens_per_s`, `goodput_per_s`
///   (`>=`/`>`): a bare non-negative number per second.
///
/// Latency clauses are also per-request bounds: a request is *good* when every one of them holds for
/// its own value (the quantile suffix only matters for the run-level check). They define goodput.
public struct SLO: Codable, Sendable, Equatable {
    /// The expression as the user wrote it. Setting it re-parses `clauses`.
    public var expression: String {
        didSet { (clauses, problem) = Self.parseClauses(expression) }
    }
    /// The parsed clauses, in the order written (empty when the expression is malformed).
    public private(set) var clauses: [SLOClause]
    /// Why the expression is malformed; thrown by `validate()`.
    public private(set) var problem: ScenarioError?

    public init(expression: String) {
        self.expression = expression
        (clauses, problem) = Self.parseClauses(expression)
    }

    /// Parses and validates `expression`.
    public static func parse(_ expression: String) throws(ScenarioError) -> SLO {
        let slo = SLO(expression: expression)
        try slo.validate()
        return slo
    }

    /// The clauses that bound each request (latency clauses).
    public var perRequestClauses: [SLOClause] { clauses.filter(\.isPerRequest) }

    /// Whether the SLO defines goodput (it has at least one per-request bound).
    public var definesGoodput: Bool { clauses.contains(where: \.isPerRequest) }

    /// Whether one request meets every per-request bound (TTFT, ITL, E2E …). Nil when the SLO has no
    /// per-request bound. A failed request is never good.
    public func isMet(by record: RequestRecord) -> Bool? {
        let bounds = perRequestClauses
        guard !bounds.isEmpty else { return nil }
        guard record.succeeded else { return false }
        return bounds.allSatisfy { $0.isMet(by: record) }
    }

    /// Rejects a malformed expression; the error names `--slo` and the bad clause.
    public func validate() throws(ScenarioError) {
        if let problem { throw problem }
    }

    // MARK: Codable: the expression only; decoding re-parses (and `validate()` reports a bad one).

    enum CodingKeys: String, CodingKey { case expression }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(expression: try container.decode(String.self, forKey: .expression))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(expression, forKey: .expression)
    }

    // MARK: Parsing

    static func parseClauses(_ expression: String) -> ([SLOClause], ScenarioError?) {
        let parts = expression.split(separator: ",", omittingEmptySubsequences: false).map { trim($0) }
        var clauses: [SLOClause] = []
        for (index, part) in parts.enumerated() {
            // A trailing comma is harmless; an empty clause in the middle is a typo.
            if part.isEmpty {
                if index == parts.count - 1, index > 0 { continue }
                return ([], ScenarioError(flag: "--slo", message: parts.count == 1
                    ? "is empty; give clauses such as ttft_p90<=2s,error_rate<=1%"
                    : "empty clause at position \(index + 1) in '\(expression)'"))
            }
            do {
                clauses.append(try SLOClause(parsing: part))
            } catch {
                return ([], error)
            }
        }
        if clauses.contains(where: { $0.metric == .goodputRate || $0.metric == .goodputPerSecond }),
           !clauses.contains(where: \.isPerRequest) {
            return ([], ScenarioError(flag: "--slo", message: "goodput_rate and goodput_per_s need at least one latency clause "
                + "(e.g. ttft_p90<=2s) to define which requests are good"))
        }
        return (clauses, nil)
    }

    static func trim(_ text: Substring) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// Which statistic of a latency distribution a clause bounds.
public enum SLOStat: String, Codable, Sendable, CaseIterable {
    case p50, p90, p95, p99, mean, max
}

/// What an SLO clause measures.
public enum SLOMetric: Sendable, Equatable, Hashable {
    /// A statistic of a latency distribution; threshold in seconds. Also a per-request bound.
    case latency(LatencyMetric, SLOStat)
    /// failed / finished; a fraction.
    case errorRate
    /// throttled (HTTP 429) / finished; a fraction.
    case throttledRate
    /// goodput / finished; a fraction.
    case goodputRate
    /// finished / duration.
    case requestsPerSecond
    /// Σ output tokens of succeeded requests / duration.
    case outputTokensPerSecond
    /// Σ input tokens of succeeded requests / duration.
    case inputTokensPerSecond
    /// goodput / duration.
    case goodputPerSecond

    /// The aggregate metrics by name.
    static let aggregates: [String: SLOMetric] = [
        "error_rate": .errorRate, "throttled_rate": .throttledRate, "goodput_rate": .goodputRate,
        "requests_per_s": .requestsPerSecond, "output_tokens_per_s": .outputTokensPerSecond,
        "input_tokens_per_s": .inputTokensPerSecond, "goodput_per_s": .goodputPerSecond,
    ]

    /// The name used in expressions and reports, e.g. `ttft_p90` or `error_rate`.
    public var name: String {
        switch self {
        case .latency(let metric, let stat): "\(metric.rawValue)_\(stat.rawValue)"
        case .errorRate: "error_rate"
        case .throttledRate: "throttled_rate"
        case .goodputRate: "goodput_rate"
        case .requestsPerSecond: "requests_per_s"
        case .outputTokensPerSecond: "output_tokens_per_s"
        case .inputTokensPerSecond: "input_tokens_per_s"
        case .goodputPerSecond: "goodput_per_s"
        }
    }

    /// The threshold's unit: `s`, `fraction`, `requests/s` or `tokens/s`.
    public var unit: String {
        switch self {
        case .latency: "s"
        case .errorRate, .throttledRate, .goodputRate: "fraction"
        case .requestsPerSecond, .goodputPerSecond: "requests/s"
        case .outputTokensPerSecond, .inputTokensPerSecond: "tokens/s"
        }
    }

    /// Whether smaller is better (the clause must use `<=` or `<`).
    public var isUpperBound: Bool {
        switch self {
        case .latency, .errorRate, .throttledRate: true
        default: false
        }
    }

    public init?(name: String) {
        if let aggregate = Self.aggregates[name] {
            self = aggregate
            return
        }
        guard let underscore = name.lastIndex(of: "_"),
              let metric = LatencyMetric(rawValue: String(name[..<underscore])),
              let stat = SLOStat(rawValue: String(name[name.index(after: underscore)...])) else { return nil }
        self = .latency(metric, stat)
    }

    /// Every accepted name, for error messages.
    static var namesHelp: String {
        let latency = LatencyMetric.allCases.map(\.rawValue).joined(separator: ", ")
        let stats = SLOStat.allCases.map(\.rawValue).joined(separator: "|")
        return "<latency>_<\(stats)> with <latency> one of \(latency); or "
            + ["error_rate", "throttled_rate", "goodput_rate", "requests_per_s", "output_tokens_per_s", "input_tokens_per_s",
               "goodput_per_s"].joined(separator: ", ")
    }
}

/// A comparison in a clause.
public enum SLOOperator: String, Codable, Sendable, CaseIterable {
    case lessOrEqual = "<="
    case less = "<"
    case greaterOrEqual = ">="
    case greater = ">"

    public func holds(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .lessOrEqual: value <= threshold
        case .less: value < threshold
        case .greaterOrEqual: value >= threshold
        case .greater: value > threshold
        }
    }

    var isUpper: Bool { self == .lessOrEqual || self == .less }
}

/// One parsed clause, e.g. `ttft_p90<=2s`.
public struct SLOClause: Sendable, Equatable {
    /// The clause as written (trimmed).
    public var text: String
    public var metric: SLOMetric
    public var op: SLOOperator
    /// In the metric's base unit: seconds for latencies, a fraction for rates, per second for throughputs.
    public var threshold: Double

    public init(text: String, metric: SLOMetric, op: SLOOperator, threshold: Double) {
        self.text = text
        self.metric = metric
        self.op = op
        self.threshold = threshold
    }

    /// Latency clauses bound each request too; the others only the run as a whole.
    public var isPerRequest: Bool {
        if case .latency = metric { return true }
        return false
    }

    /// Whether `measured` (in the base unit) satisfies the clause.
    public func holds(_ measured: Double) -> Bool { op.holds(measured, threshold) }

    /// The per-request check: the request's own value of the latency must satisfy the bound.
    /// TTFT and TTFT-answer must exist (a request that never produced a token is not good);
    /// ITL, LLMPerf ITL and chunk gaps do not apply to requests with too few tokens and then hold.
    /// Chunk gaps: every gap of the request must satisfy the bound. Aggregate clauses always hold.
    public func isMet(by record: RequestRecord) -> Bool {
        guard case .latency(let latency, _) = metric else { return true }
        let nanoseconds: Int64?
        switch latency {
        case .ttft, .ttfat:
            guard let value = RequestMetrics.value(latency, record) else { return false }
            nanoseconds = value
        case .chunkGap:
            nanoseconds = RequestMetrics.chunkGaps(record).max()
        default:
            nanoseconds = RequestMetrics.value(latency, record)
        }
        guard let nanoseconds else { return true }
        return holds(Double(nanoseconds) / 1e9)
    }

    /// Parses one clause, e.g. `ttft_p90<=2s`, `error_rate<=1%` or `output_tokens_per_s>=500`.
    public init(parsing clause: String) throws(ScenarioError) {
        func fail(_ why: String) -> ScenarioError { ScenarioError(flag: "--slo", message: "clause '\(clause)': \(why)") }
        guard let opStart = clause.firstIndex(where: { $0 == "<" || $0 == ">" || $0 == "=" }) else {
            throw fail("expected metric<=value, metric<value, metric>=value or metric>value, e.g. ttft_p90<=2s")
        }
        let name = SLO.trim(clause[..<opStart])
        var rest = clause[opStart...]
        let op: SLOOperator
        if rest.hasPrefix("<=") { op = .lessOrEqual; rest = rest.dropFirst(2) }
        else if rest.hasPrefix(">=") { op = .greaterOrEqual; rest = rest.dropFirst(2) }
        else if rest.hasPrefix("<") { op = .less; rest = rest.dropFirst() }
        else if rest.hasPrefix(">") { op = .greater; rest = rest.dropFirst() }
        else { throw fail("unknown comparison; use <=, <, >= or >") }
        let valueText = SLO.trim(rest)
        guard !name.isEmpty else { throw fail("missing metric name before '\(op.rawValue)'") }
        guard let metric = SLOMetric(name: name) else {
            throw fail("unknown metric '\(name)'; use \(SLOMetric.namesHelp)")
        }
        guard metric.isUpperBound == op.isUpper else {
            throw fail(metric.isUpperBound ? "\(name) is an upper bound: use <= or <" : "\(name) is a lower bound: use >= or >")
        }
        guard !valueText.isEmpty else { throw fail("missing value after '\(op.rawValue)'") }
        guard !valueText.contains(where: { "<>=".contains($0) }) else { throw fail("more than one comparison") }
        let threshold: Double
        switch metric {
        case .latency:
            let duration: Duration
            do { duration = try DurationParsing.parse(valueText, bareNumber: .rejected) } catch {
                throw fail("'\(valueText)' is not a latency: \(error.reason); give a number with a unit: \(DurationParsing.unitList) (e.g. 80ms, 2s)")
            }
            // As measured values are (whole nanoseconds / 1e9), so a bound of 200ms is exactly the double nearest 0.2.
            threshold = Double(duration.nanoseconds) / 1e9
        case .errorRate, .throttledRate, .goodputRate:
            guard let fraction = Self.parseRate(valueText) else {
                throw fail("'\(valueText)' is not a rate; give a percentage (1%) or a fraction between 0 and 1 (0.01)")
            }
            threshold = fraction
        case .requestsPerSecond, .outputTokensPerSecond, .inputTokensPerSecond, .goodputPerSecond:
            guard let number = Double(valueText), number.isFinite, number >= 0 else {
                throw fail("'\(valueText)' is not a non-negative number per second")
            }
            threshold = number
        }
        self.init(text: clause, metric: metric, op: op, threshold: threshold)
    }

    /// `1%` → 0.01; `0.01` → 0.01; values outside [0, 1] (or [0 %, 100 %]) are rejected.
    static func parseRate(_ text: String) -> Double? {
        if text.hasSuffix("%") {
            guard let percent = Double(SLO.trim(text.dropLast())), percent.isFinite, (0...100).contains(percent) else { return nil }
            return percent / 100
        }
        guard let fraction = Double(text), fraction.isFinite, (0...1).contains(fraction) else { return nil }
        return fraction
    }
}
