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

/// One stage's stats block. Its summary's duration is the part of the stage the run covered, so
/// rates are per stage; a request belongs to the stage in which it was scheduled.
public struct StageResult: Codable, Sendable, Equatable {
    public var index: Int
    public var label: String
    public var summary: StatsSummary
    /// The stage's target: users (closed loop) or requests per second (open loop); nil without stages.
    public var users: Int? = nil
    public var rate: Double? = nil
    /// Stage start, seconds on the run clock.
    public var startSeconds: Double? = nil
    /// The merged histograms behind `summary` (not serialised), for renderers that need more than its quantiles.
    public var total = MetricSet()

    enum CodingKeys: String, CodingKey {
        case index, label, summary, users, rate, startSeconds
    }
}

/// Open-loop figures of a run (or of one stage).
public struct OpenLoopResult: Codable, Sendable, Equatable {
    public var arrival: ArrivalProcess
    public var burstiness: Double
    public var maxConcurrency: Int?
    /// The schedule's mean rate over the run: expected arrivals in [0, duration] / duration.
    public var requestedRate: Double
    /// finished requests / duration (what the target actually served; requests in flight at the stop are not counted).
    public var achievedRate: Double
    /// Arrivals not sent because `maxConcurrency` requests were in flight.
    public var droppedArrivals: Int
    /// Actual send - scheduled send, seconds (the client's own delay; latencies include it).
    public var scheduleLagP50Seconds: Double?
    public var scheduleLagP99Seconds: Double?
}

/// Everything a run produced; the JSON report is this value.
public struct RunResult: Codable, Sendable {
    /// The version of this shape (`schema_version` in the JSON): raised when a field changes meaning or
    /// goes away; adding a field does not raise it. History in docs/metrics.md.
    public static let currentSchemaVersion = 2

    public var schemaVersion = RunResult.currentSchemaVersion
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
    /// Requested and achieved rate, dropped arrivals and schedule lag, for an open loop.
    public var openLoop: OpenLoopResult?
    /// The generator self-check: whether a worker's load generator was the bottleneck.
    public var generator: GeneratorReport?
    /// The merged histograms behind `overall` (not serialised).
    public var total = MetricSet()

    enum CodingKeys: String, CodingKey {
        case schemaVersion, runId, name, startedAt, stopReason, durationSeconds, scenario, overall, stages, timeSeries, workers, formulas, slo, cost, openLoop, generator
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

    public init(elapsedSeconds: Double, users: Int, requestsPerSecond: Double, ttftP50Seconds: Double?, outputTokensPerSecond: Double,
                finished: Int, errors: Int, workers: Int) {
        self.elapsedSeconds = elapsedSeconds
        self.users = users
        self.requestsPerSecond = requestsPerSecond
        self.ttftP50Seconds = ttftP50Seconds
        self.outputTokensPerSecond = outputTokensPerSecond
        self.finished = finished
        self.errors = errors
        self.workers = workers
    }
}
