import StampedeCore
import StampedeMetrics

/// Why a run ended.
public enum StopReason: String, Codable, Sendable {
    case runTime = "run_time"
    case maxRequests = "max_requests"
    case interrupted
    case allWorkersLost = "all_workers_lost"
    case startFailed = "start_failed"
}

/// One worker's line in the per-worker table.
public struct WorkerSummary: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case running, stopped, lost }
    public var id: String
    public var host: String
    public var users: Int
    public var finished: Int
    public var failed: Int
    public var requestsPerSecond: Double
    public var cpuPercent: Double?
    public var state: State
}

/// One stage's stats block.
public struct StageResult: Codable, Sendable, Equatable {
    public var index: Int
    public var label: String
    public var summary: StatsSummary
}

/// Everything a run produced; the JSON report is this value.
public struct RunResult: Codable, Sendable {
    public var runId: String
    public var name: String
    /// Wall-clock start, ISO 8601: a label only; all timing uses the monotonic clock.
    public var startedAt: String
    public var stopReason: StopReason
    public var durationSeconds: Double
    public var scenario: Scenario
    public var overall: StatsSummary
    public var stages: [StageResult]
    public var timeSeries: [IntervalPoint]
    public var workers: [WorkerSummary]
    /// Formula of every reported metric, by name.
    public var formulas: [String: String]
    /// The SLO verdict, when the scenario has an SLO.
    public var slo: SLOResult?
    /// Cost figures, when the scenario has prices.
    public var cost: CostSummary?
    /// The merged histograms behind `overall` (not serialised).
    public var total = MetricSet()

    enum CodingKeys: String, CodingKey {
        case runId, name, startedAt, stopReason, durationSeconds, scenario, overall, stages, timeSeries, workers, formulas, slo, cost
    }

    public static var allFormulas: [String: String] {
        var formulas: [String: String] = [:]
        for metric in LatencyMetric.allCases { formulas[metric.rawValue] = metric.formula }
        for (name, formula) in StatsSummary.aggregateFormulas { formulas[name] = formula }
        return formulas
    }
}

/// What the live progress line shows, once per interval.
public struct LiveStatus: Sendable, Equatable {
    public var elapsedSeconds: Double
    public var users: Int
    public var requestsPerSecond: Double
    public var ttftP50Seconds: Double?
    public var outputTokensPerSecond: Double
    public var finished: Int
    public var errors: Int
    public var workers: Int
}
