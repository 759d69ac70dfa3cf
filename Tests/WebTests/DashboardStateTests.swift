import StampedeCore
@testable import StampedeEngine
import StampedeMetrics
import StampedeWeb
import Testing

/// The dashboard's model: phases, stages, the bounded log, and one shared frame per change.
@Suite struct DashboardStateTests {
    static func started(openLoop: Bool = false) -> RunEvent {
        var scenario = Scenario(target: "http://127.0.0.1:1")
        if openLoop { scenario.openLoop = OpenLoop(rate: 5) }
        return .started(RunStarted(runId: "r1", name: "demo", startedAt: "x", scenario: scenario, workers: ["w1"]))
    }

    @Test func phasesFollowTheEvents() {
        var state = DashboardState(waiting: true)
        #expect(state.phase == .waiting)
        let started = state.apply(Self.started())
        #expect(started)
        #expect(state.phase == .running && state.canChangeUsers)
        let staged = state.apply(.stageChanged(StageChange(index: 1, label: "8 users", atSeconds: 3, users: 8, rate: nil)))
        #expect(staged)
        #expect(state.stages.count == 1)
        let records = state.apply(.records([]))
        #expect(!records, "records do not redraw the page")
        let final = PrometheusExportTests.result(e2eMs: [5], succeeded: 1, failed: 0, errors: [:], outputTokens: 1)
        let finished = state.apply(.finished(final))
        #expect(finished)
        #expect(state.phase == .finished && state.log.last?.hasPrefix("run finished") == true)
    }

    @Test func openLoopRunsCannotChangeUsers() {
        var state = DashboardState(waiting: false)
        _ = state.apply(Self.started(openLoop: true))
        #expect(!state.canChangeUsers)
    }

    @Test func logIsBounded() {
        var state = DashboardState(waiting: false)
        for i in 0..<200 { state.note("line \(i)") }
        #expect(state.log.count == DashboardState.maxLog && state.log.last == "line 199")
    }

    @Test func boardSharesOneFrameAndBoundsStreams() async {
        let board = WebBoard(waiting: false, maxStreams: 2)
        let first = board.subscribe()
        let second = board.subscribe()
        #expect(first != nil && second != nil)
        #expect(board.subscribe() == nil, "a third stream is refused")
        board.apply(Self.started())
        board.apply(.finished(PrometheusExportTests.result(e2eMs: [5, 7], succeeded: 2, failed: 0, errors: [:], outputTokens: 4)))
        #expect(board.frame.contains("\"phase\":\"finished\""))
        #expect(board.frame.contains("<svg"), "charts are drawn server-side")
        // Newest only: a stream that did not read holds just the last frame.
        var iterator = first!.makeAsyncIterator()
        let frame = await iterator.next()
        #expect(frame == board.frame)
        board.close()
        #expect(await iterator.next() == nil)
    }

    /// With no browser watching nothing is drawn per interval; the first reader gets the charts all the same.
    @Test func unwatchedBoardDrawsWhenRead() {
        let board = WebBoard(waiting: false)
        board.apply(Self.started())
        board.apply(.finished(PrometheusExportTests.result(e2eMs: [5, 7], succeeded: 2, failed: 0, errors: [:], outputTokens: 4)))
        #expect(board.frame.contains("<svg"))
        #expect(board.frame.contains("\"phase\":\"finished\""))
    }
}
