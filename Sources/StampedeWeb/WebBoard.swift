import Foundation
import StampedeEngine
import StampedeReport
import Synchronization

/// The dashboard's shared state: the model, its newest rendered frame, the final results, and the
/// open event streams. The output task writes it once per event; the HTTP handlers read it.
///
/// Sendable: everything mutable sits behind one `Mutex`; rendering happens outside the lock.
public final class WebBoard: Sendable {
    private struct State {
        var model: DashboardState
        /// Pieces drawn from `model.result`, redrawn only when the result changes.
        var pieces: DashboardFrame.Pieces = ("", "", "", "", "")
        /// A result not drawn yet: with no browser watching, drawing waits until one asks (`frame`, `subscribe`).
        var undrawn: RunResult?
        var frame = "{}"
        var final: RunResult?
        var streams: [Int: AsyncStream<String>.Continuation] = [:]
        var nextStream = 0
        var closed = false
    }

    public let maxStreams: Int
    public let metrics = PrometheusExport()
    private let state: Mutex<State>

    public init(waiting: Bool, maxStreams: Int = 32) {
        self.maxStreams = max(1, maxStreams)
        state = Mutex(State(model: DashboardState(waiting: waiting)))
        state.withLock { $0.frame = DashboardFrame($0.model) { _ in ("", "", "", "", "") }.json() }
    }

    /// Applies a run event: updates /metrics, redraws the charts and tables once (when the results changed)
    /// and sends the new frame to every open stream.
    public func apply(_ event: RunEvent) {
        var result: RunResult?
        switch event {
        case .interval(let update):
            if let snapshot = update.snapshot {
                metrics.update(snapshot, status: update.status, inFlight: update.point?.inFlight)
                result = snapshot
            }
        case .finished(let final):
            metrics.update(final, status: nil, inFlight: 0)
            result = final
        default:
            break
        }
        let (changed, watched) = state.withLock { ($0.model.apply(event), !$0.streams.isEmpty) }
        guard changed else { return }
        let pieces = watched ? result.map(Self.render) : nil
        publish { s in
            if let pieces {
                s.pieces = pieces
                s.undrawn = nil
            } else if let result {
                s.undrawn = result
            }
            if case .finished(let final) = event { s.final = final }
        }
    }

    /// Draws a result that arrived while nobody watched.
    private func drawUndrawn() {
        guard let result = state.withLock({ $0.undrawn }) else { return }
        let pieces = Self.render(result)
        publish { s in
            // A newer result may have come meanwhile: it stays undrawn for the next reader.
            s.pieces = pieces
            if s.undrawn?.durationSeconds == result.durationSeconds { s.undrawn = nil }
        }
    }

    /// A line for the page's log (control answers).
    public func note(_ line: String) {
        publish { $0.model.note(line) }
    }

    /// Marks the run started from the page (before its first event arrives).
    public func markStarting(users: Int, spawnRate: Double) {
        publish { s in
            s.model.phase = .running
            s.model.note("start asked for: \(users) users at \(spawnRate)/s")
        }
    }

    private func publish(_ change: (inout State) -> Void) {
        let (frame, streams) = state.withLock { s -> (String, [AsyncStream<String>.Continuation]) in
            change(&s)
            let pieces = s.pieces
            s.frame = DashboardFrame(s.model) { _ in pieces }.json()
            return (s.frame, Array(s.streams.values))
        }
        for stream in streams { stream.yield(frame) }
    }

    static func render(_ result: RunResult) -> DashboardFrame.Pieces {
        (HTMLLive.cards(result), HTMLLive.charts(result), HTMLLive.stats(result), HTMLLive.workers(result), HTMLLive.errors(result))
    }

    /// The newest frame (JSON).
    public var frame: String {
        drawUndrawn()
        return state.withLock { $0.frame }
    }
    /// The final results once the run has finished.
    public var final: RunResult? { state.withLock { $0.final } }
    public var phase: DashboardState.Phase { state.withLock { $0.model.phase } }
    public var openStreams: Int { state.withLock { $0.streams.count } }

    /// A stream of frames starting with the newest, holding only the newest one a slow browser has not read;
    /// nil when `maxStreams` are already open.
    public func subscribe() -> AsyncStream<String>? {
        drawUndrawn()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { s in
            guard !s.closed, s.streams.count < maxStreams else { return nil }
            s.nextStream += 1
            s.streams[s.nextStream] = continuation
            continuation.yield(s.frame)
            return s.nextStream
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every stream (the server is stopping).
    public func close() {
        let streams = state.withLock { s -> [AsyncStream<String>.Continuation] in
            s.closed = true
            defer { s.streams.removeAll() }
            return Array(s.streams.values)
        }
        for stream in streams { stream.finish() }
    }
}

/// `--web`'s run output: feeds the board from the run's events. A live view, so it takes only the newest
/// events (`.finished` is last and always arrives).
public struct WebOutput: RunOutput {
    public let board: WebBoard

    public init(board: WebBoard) { self.board = board }

    public var delivery: RunEventHub.Delivery { .newest(16) }

    public func consume(_ events: AsyncStream<RunEvent>) async throws -> [String] {
        for await event in events { board.apply(event) }
        return []
    }
}
