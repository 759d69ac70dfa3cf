import Foundation
import StampedeCore
import StampedeEngine

/// `stampede sweep --html PATH`: the seed's two charts made automatic (requests/s against the load; p50 and p95
/// E2E and TTFT against the load), with the best latency and the knee marked and the largest RPS before the knee
/// labelled; then the steps and the answers. Read from the `SweepResult` only.
public enum HTMLSweepReport {
    public static func render(_ sweep: SweepResult) -> String {
        var body = HTMLPage.heading(1, "Stampede sweep: \(sweep.name)")
        let slo = sweep.sloExpression.map { ", or SLO \($0) failed" } ?? ""
        body += "<p class=\"meta\">by \(Markup.escape(sweep.axis.rawValue)) · step \(Markup.escape(Fmt.fixed(sweep.stepSeconds, 1))) s after "
            + "\(Markup.escape(Fmt.fixed(sweep.warmupSeconds, 1))) s warm-up · knee at p50 E2E &gt; "
            + "\(Markup.escape(Fmt.fixed(sweep.kneeFactor, 2))) × the 1-user value, or error rate &gt; "
            + "\(Markup.escape(Fmt.percent(sweep.maxErrorRate)))\(Markup.escape(slo)) · stopped by \(Markup.escape(sweep.stoppedBy))</p>"
        let a = sweep.answers
        body += HTMLPage.cards([
            (a.bestLatency.map { SweepReport.ms($0.e2eP50) + " ms" } ?? "-", "best p50 E2E (1 user)"),
            (a.maxThroughput.map { Fmt.fixed($0.requestsPerSecond, 2) } ?? "-", "largest req/s before the knee"),
            (a.maxThroughput.map { SweepReport.point($0) } ?? "-", "at"),
            (a.knee.map { SweepReport.point($0) } ?? "not reached", "knee"),
        ])
        body += HTMLPage.heading(2, "Charts")
        body += "<div class=\"charts\">" + charts(sweep).map { HTMLPage.figure($0.chart, id: $0.id, caption: $0.caption) }.joined() + "</div>"
        body += HTMLPage.heading(2, "Steps")
        var rows = [["step", "phase", "load", "req/s", "out tok/s", "TTFT p50", "TTFT p95", "ITL p50", "ITL p95", "E2E p50", "E2E p95",
                     "errors", "verdict"]]
        for step in sweep.steps {
            rows.append(["\(step.number)", step.phase.rawValue, SweepReport.level(step), Fmt.fixed(step.requestsPerSecond, 2),
                         Fmt.fixed(step.outputTokensPerSecond, 1), SweepReport.ms(step.ttftP50), SweepReport.ms(step.ttftP95),
                         SweepReport.ms(step.itlP50), SweepReport.ms(step.itlP95), SweepReport.ms(step.e2eP50), SweepReport.ms(step.e2eP95),
                         "\(step.errors)", step.verdict.rawValue])
        }
        body += HTMLPage.table(rows, left: [0, 1, 2, 12])
        body += "<p class=\"meta\">latencies in ms; req/s = finished / step time; warm-up requests are not counted</p>"
        let text = SweepReport.render(sweep)
        if let answers = text.range(of: "Answers\n") {
            body += HTMLPage.heading(2, "Answers")
            body += HTMLPage.pre(String(text[answers.upperBound...]))
        }
        body += "<footer>Written by stampede sweep, from the merged results of each step (the same figures as --json).</footer>"
        return HTMLPage.document(title: "Stampede sweep: \(sweep.name)", body: body)
    }

    public static func write(_ sweep: SweepResult, to path: String) throws {
        try FileOutput.write(Data(render(sweep).utf8), to: path)
    }

    static func charts(_ sweep: SweepResult) -> [HTMLReport.Chart] {
        /// The load of a step or answer on the x axis: users, or the open-loop rate (the 1-user baseline of a rate
        /// sweep sits at the rate it achieved).
        func level(users: Int?, rate: Double?, rps: Double) -> Double? {
            rate ?? (sweep.axis == .rate ? (rps > 0 ? rps : nil) : users.map(Double.init))
        }
        func load(_ step: SweepStep) -> Double? { level(users: step.users, rate: step.rate, rps: step.requestsPerSecond) }
        func answer(_ point: SweepPoint) -> Double? { level(users: point.users, rate: point.rate, rps: point.requestsPerSecond) }
        let steps = sweep.steps.filter { load($0) != nil }.sorted { load($0)! < load($1)! }
        let palette = LineChart.palette
        let axisName = sweep.axis == .rate ? "offered rate (req/s, log scale)" : "users (log scale)"
        func line(_ name: String, _ color: String, dashed: Bool = false, _ value: (SweepStep) -> Double?) -> LineChart.Series {
            LineChart.Series(name: name, points: steps.map { (x: load($0)!, y: value($0)) },
                             color: color, dashed: dashed, dots: true)
        }
        let loads = steps.compactMap { load($0) }
        var ticks: [Double]?
        if sweep.axis == .users, let high = loads.max() {
            let last = (0...22).first { pow(2, Double($0)) >= high } ?? 22
            ticks = (0...last).map { pow(2, Double($0)) }
        }
        var markers: [LineChart.Marker] = []
        if let knee = sweep.answers.knee, let x = answer(knee) {
            let reason = knee.reason ?? "knee"
            markers.append(LineChart.Marker(x: x, label: reason == "knee" ? "knee" : "knee (\(reason))"))
        }

        var throughput = LineChart(title: "Requests/s against \(sweep.axis == .rate ? "the offered rate" : "users")", xLabel: axisName,
                                   yLabel: "requests/s", series: [line("requests/s", palette[0]) { $0.requestsPerSecond }])
        throughput.xScale = .log
        throughput.xTicks = ticks
        throughput.markers = markers
        if let top = sweep.answers.maxThroughput, let x = answer(top) {
            throughput.callouts.append(LineChart.Callout(x: x, y: top.requestsPerSecond,
                                                         label: "largest before the knee: \(Fmt.fixed(top.requestsPerSecond, 2)) req/s",
                                                         color: palette[2]))
        }

        var latency = LineChart(title: "Latency against \(sweep.axis == .rate ? "the offered rate" : "users")", xLabel: axisName,
                                yLabel: "ms", series: [
                                    line("E2E p50", palette[1]) { $0.e2eP50.map { $0 * 1000 } },
                                    line("E2E p95", palette[1], dashed: true) { $0.e2eP95.map { $0 * 1000 } },
                                    line("TTFT p50", palette[3]) { $0.ttftP50.map { $0 * 1000 } },
                                    line("TTFT p95", palette[3], dashed: true) { $0.ttftP95.map { $0 * 1000 } },
                                ])
        latency.xScale = .log
        latency.xTicks = ticks
        latency.markers = markers
        if let best = sweep.answers.bestLatency, let x = answer(best), let e2e = best.e2eP50 {
            latency.callouts.append(LineChart.Callout(x: x, y: e2e * 1000, label: "best latency: \(Fmt.ms(e2e)) ms", color: palette[2]))
        }
        return [
            HTMLReport.Chart(id: "chart-sweep-rps", chart: throughput,
                             caption: "req/s = finished / step time; the dashed line marks the knee"),
            HTMLReport.Chart(id: "chart-sweep-latency", chart: latency,
                             caption: "p50 (solid) and p95 (dashed) of each step's measured requests"),
        ]
    }
}
