import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics

/// What the dashboard shows, built from the run's events: pure (no I/O, no clock), so that the tests
/// feed events and read the frame. The CLI's output renders it once per interval (`DashboardFrame`)
/// and every browser gets that same frame.
public struct DashboardState: Sendable {
    public enum Phase: String, Sendable, Codable { case waiting, running, finished }

    public var phase: Phase
    public var runName = ""
    public var status: LiveStatus?
    public var inFlight: Int?
    /// The newest results (a snapshot while the run goes, the final ones after).
    public var result: RunResult?
    public var stages: [StageChange] = []
    /// The newest notes (workers joining and leaving, saturation, control answers), at most `maxLog`.
    public private(set) var log: [String] = []
    public static let maxLog = 50
    /// Whether users can be changed while it runs (closed loop without planned stages).
    public var canChangeUsers = true
    /// Bumped on every change, so a browser can tell a new frame from one it has.
    public private(set) var version = 0

    public init(waiting: Bool) {
        phase = waiting ? .waiting : .running
    }

    /// Applies an event; returns whether the page should be redrawn.
    public mutating func apply(_ event: RunEvent) -> Bool {
        switch event {
        case .started(let started):
            phase = .running
            runName = started.name
            canChangeUsers = started.scenario.openLoop == nil && (started.scenario.stages?.isEmpty ?? true)
            note("run \(started.runId) started with \(started.workers.count) worker(s)")
        case .interval(let update):
            status = update.status
            inFlight = update.point?.inFlight ?? inFlight
            if let snapshot = update.snapshot { result = snapshot }
        case .stageChanged(let change):
            stages.append(change)
            note("stage \(change.index): \(change.label) at \(String(format: "%.1f", change.atSeconds)) s")
        case .worker(let change):
            switch change.kind {
            case .joined: note("worker \(change.worker) joined (\(change.workers) live)")
            case .rejoined: note("worker \(change.worker) rejoined (\(change.workers) live)")
            case .lost(let reason): note("worker \(change.worker) lost: \(reason) (\(change.workers) live)")
            }
        case .generatorSaturated(let alert):
            note("worker \(alert.worker): load generator saturated (\(alert.reasons.joined(separator: "; ")))")
        case .records:
            return false
        case .finished(let final):
            phase = .finished
            result = final
            inFlight = 0
            note("run finished: \(final.stopReason.rawValue) after \(String(format: "%.1f", final.durationSeconds)) s")
        }
        version += 1
        return true
    }

    /// A line in the log (bounded: the oldest goes).
    public mutating func note(_ line: String) {
        log.append(line)
        if log.count > Self.maxLog { log.removeFirst(log.count - Self.maxLog) }
        version += 1
    }
}

/// One rendered frame of the dashboard: JSON with the figures and the HTML pieces (charts drawn
/// server-side with the report's SVG module). Rendered once per change, shared by every browser.
public struct DashboardFrame: Encodable, Sendable {
    public var version: Int
    public var phase: String
    public var name: String
    public var elapsed: Double?
    public var users: Int?
    public var rps: Double?
    public var finished: Int?
    public var errors: Int?
    public var workers: Int?
    public var inFlight: Int?
    public var canChangeUsers: Bool
    public var log: [String]
    public var cards: String
    public var charts: String
    public var stats: String
    public var workersTable: String
    public var errorsTable: String

    /// The HTML pieces drawn from one result.
    public typealias Pieces = (cards: String, charts: String, stats: String, workers: String, errors: String)

    public init(_ state: DashboardState, render: (RunResult) -> Pieces) {
        version = state.version
        phase = state.phase.rawValue
        name = state.runName
        // After the run its duration, not the last live line's time.
        elapsed = state.phase == .finished ? state.result?.durationSeconds : state.status?.elapsedSeconds ?? state.result?.durationSeconds
        users = state.status?.users
        rps = state.status?.requestsPerSecond
        finished = state.result?.overall.requestsFinished ?? state.status?.finished
        errors = state.result?.overall.requestsFailed ?? state.status?.errors
        workers = state.status?.workers
        inFlight = state.inFlight
        canChangeUsers = state.canChangeUsers
        log = state.log
        let pieces: Pieces = state.result.map(render) ?? (cards: "", charts: "", stats: "", workers: "", errors: "")
        cards = pieces.cards
        charts = pieces.charts
        stats = pieces.stats
        workersTable = pieces.workers
        errorsTable = pieces.errors
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
