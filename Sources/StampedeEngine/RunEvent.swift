import Foundation
import StampedeCore
import StampedeMetrics
import Synchronization

/// What a run tells its outputs, in order. The coordinator publishes these and every output
/// (console, JSON, LLMPerf, JSONL, CSV, HTML, Prometheus, the dashboard) subscribes to them; no
/// output is called by the coordinator directly, and none recomputes a metric from raw records.
public enum RunEvent: Sendable {
    /// The run began (run-clock zero).
    case started(RunStarted)
    /// An interval closed and was merged over every worker.
    case interval(IntervalUpdate)
    /// The run entered a stage (a planned one, or a load change asked for while it runs).
    case stageChanged(StageChange)
    /// A worker joined, rejoined or was lost.
    case worker(WorkerChange)
    /// A worker's load generator counts as the bottleneck (once per worker).
    case generatorSaturated(GeneratorAlert)
    /// Raw records of a merged delta (only when the scenario collects them).
    case records([RequestRecord])
    /// The run is over: its final results (hosts and CPU filled in).
    case finished(RunResult)
}

public struct RunStarted: Sendable, Equatable {
    public var runId: String
    public var name: String
    /// Wall-clock start, ISO 8601: a label only.
    public var startedAt: String
    public var scenario: Scenario
    public var workers: [String]

    public init(runId: String, name: String, startedAt: String, scenario: Scenario, workers: [String]) {
        self.runId = runId
        self.name = name
        self.startedAt = startedAt
        self.scenario = scenario
        self.workers = workers
    }
}

/// One closed interval: the live line's figures, the merged point, and (when the coordinator is asked
/// for them, `CoordinatorOptions.snapshots`) the results so far, in the same shape as the final ones.
public struct IntervalUpdate: Sendable {
    public var status: LiveStatus
    /// The merged point of the newest closed interval (nil before any closed).
    public var point: IntervalPoint?
    /// The results so far: summaries, stages, the closed series, the workers and the generator check.
    public var snapshot: RunResult?

    public init(status: LiveStatus, point: IntervalPoint?, snapshot: RunResult?) {
        self.status = status
        self.point = point
        self.snapshot = snapshot
    }
}

public struct StageChange: Sendable, Equatable {
    public var index: Int
    public var label: String
    public var atSeconds: Double
    public var users: Int?
    public var rate: Double?

    public init(index: Int, label: String, atSeconds: Double, users: Int?, rate: Double?) {
        self.index = index
        self.label = label
        self.atSeconds = atSeconds
        self.users = users
        self.rate = rate
    }
}

public struct WorkerChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case joined
        case rejoined
        case lost(reason: String)
    }

    public var worker: String
    public var kind: Kind
    /// Live workers after the change.
    public var workers: Int
    public var atSeconds: Double

    public init(worker: String, kind: Kind, workers: Int, atSeconds: Double) {
        self.worker = worker
        self.kind = kind
        self.workers = workers
        self.atSeconds = atSeconds
    }
}

public struct GeneratorAlert: Sendable, Equatable {
    public var worker: String
    public var interval: Int
    public var reasons: [String]

    public init(worker: String, interval: Int, reasons: [String]) {
        self.worker = worker
        self.interval = interval
        self.reasons = reasons
    }
}

/// Fans run events out to subscribers, each with its own buffer. Publishing never blocks and never
/// waits for a subscriber: a slow live view (`.newest`) loses old events, never the last one; a
/// file output (`.every`) gets every event, and its buffer is bounded by what the run produces.
///
/// Sendable: the subscriber table sits behind a `Mutex`.
public final class RunEventHub: Sendable {
    public enum Delivery: Sendable {
        /// Every event, in order (outputs that write files).
        case every
        /// Only the newest `n` waiting events (live views, which redraw from the latest).
        case newest(Int)
    }

    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<RunEvent>.Continuation] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// A stream of the events published from now on. It ends when the hub closes.
    public func subscribe(_ delivery: Delivery = .every) -> AsyncStream<RunEvent> {
        let policy: AsyncStream<RunEvent>.Continuation.BufferingPolicy
        switch delivery {
        case .every: policy = .unbounded
        case .newest(let n): policy = .bufferingNewest(max(1, n))
        }
        let (stream, continuation) = AsyncStream.makeStream(of: RunEvent.self, bufferingPolicy: policy)
        let id: Int? = state.withLock { s in
            guard !s.closed else { return nil }
            s.next += 1
            s.subscribers[s.next] = continuation
            return s.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    public func publish(_ event: RunEvent) {
        let subscribers = state.withLock { $0.closed ? [] : Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// Ends every subscriber's stream once it has read what is buffered; later subscribers get an ended stream.
    public func close() {
        let subscribers = state.withLock { s -> [AsyncStream<RunEvent>.Continuation] in
            s.closed = true
            defer { s.subscribers.removeAll() }
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}
