import Foundation
import StampedeCore
@testable import StampedeEngine
@testable import StampedeMetrics
@testable import StampedeReport
import Testing

/// The pieces behind `--html` and `--csv`: escaping, CSV quoting, axes, the SVG chart, the percentile curve, and
/// the per-interval figures the renderers read from the merged series.
@Suite("HTML and CSV rendering")
struct ReportRenderingTests {
    @Test func markupEscapesEverySpecialCharacter() {
        #expect(Markup.escape("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        #expect(Markup.escape("bell\u{07}tab\tnl\n") == "bell\u{FFFD}tab\tnl\n")
        #expect(Markup.escape("plain text 1.5 ms") == "plain text 1.5 ms")
    }

    @Test func csvFieldsAreQuotedAsPythonDoes() {
        #expect(CSVText.field("plain") == "plain")
        #expect(CSVText.field("a,b") == "\"a,b\"")
        #expect(CSVText.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVText.field("two\nlines") == "\"two\nlines\"")
        #expect(CSVText.table([["a", "b,c"], ["1", ""]]) == "a,\"b,c\"\r\n1,\r\n")
    }

    @Test func axesHaveRoundTicks() {
        let linear = Axis(scale: .linear, values: [0.3, 9.3])
        #expect(linear.ticks == [0, 2, 4, 6, 8, 10])
        #expect(linear.fraction(5) == 0.5)
        let log = Axis(scale: .log, values: [3, 420])
        #expect(log.lo == 1 && log.hi == 1000)
        #expect(log.ticks == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
        let percentile = Axis(scale: .percentile(decades: 3), values: [])
        #expect(percentile.ticks.map { ($0 * 1000).rounded() / 1000 } == [0, 90, 99, 99.9])
        #expect(abs(percentile.fraction(99) - 2.0 / 3.0) < 1e-9)
        let flat = Axis(scale: .linear, values: [0, 0])
        #expect(flat.hi > flat.lo)
    }

    @Test func chartDrawsSeriesAndEscapesItsText() {
        var chart = LineChart(title: "E2E <p50>", xLabel: "time (s)", yLabel: "ms", series: [
            LineChart.Series(name: "a\"b<c>", points: [(x: 0, y: 1), (x: 1, y: nil), (x: 2, y: 3), (x: 3, y: 4)], color: "#2563eb"),
        ])
        chart.markers = [LineChart.Marker(x: 2, label: "stage <1>")]
        let svg = chart.svg(id: "c1\"><script>")
        #expect(svg.hasPrefix("<svg class=\"chart\" id=\"c1script\""))
        #expect(svg.contains("E2E &lt;p50&gt;"))
        #expect(svg.contains("a&quot;b&lt;c&gt;"))
        #expect(svg.contains("stage &lt;1&gt;"))
        #expect(!svg.contains("<script") && !svg.contains("<p50>"))
        #expect(svg.contains("data-plot=\"70 62 630 226\""))
        // The nil point breaks the line: one path with two pieces (M … M … L …).
        let start = svg.range(of: "<path class=\"series\" d=\"")?.upperBound
        let d = start.map { String(svg[$0...].prefix { $0 != "\"" }) } ?? ""
        #expect(d.filter { $0 == "M" }.count == 2, "\(d)")
        #expect(d.filter { $0 == "L" }.count == 1, "\(d)")

        let empty = LineChart(title: "nothing", xLabel: "x", yLabel: "y", series: []).svg(id: "e")
        #expect(!empty.contains("class=\"series\""))
    }

    @Test func percentileCurveReadsTheHistogramBuckets() throws {
        var histogram = MetricHistogram()
        for value in 1...1000 { histogram.record(UInt64(value)) }
        let points = PercentileCurve.points(histogram, decades: 3, unit: 1, samples: 30)
        #expect(points.count == 31)
        #expect(points.first?.x == 0)
        #expect(points.first?.y == 1)
        let values = points.compactMap { $0.y }
        #expect(values == values.sorted(), "a percentile curve never falls")
        let p90 = try #require(points.first { abs($0.x - 90) < 1e-6 }?.y)
        #expect(abs(p90 - 900) <= 1, "p90 \(p90)")
        #expect(abs((points.last?.y ?? 0) - 999) <= 1)
        #expect(PercentileCurve.points(MetricHistogram(), decades: 3, unit: 1).isEmpty)
        #expect(PercentileCurve.decades(count: 5) == 1 && PercentileCurve.decades(count: 20_000) == 4)
    }

    @Test func longRunsAreDrawnInBinsButWrittenPerSecond() {
        let points = (0..<4000).map { i in
            IntervalPoint(interval: i, startSeconds: Double(i), users: 3, inFlight: 1, finished: 2, succeeded: 2, failed: 0, throttled: 0,
                          inputTokens: 10, outputTokens: 20, latency: ["e2e_p50": 0.5, "e2e_p95": i == 1234 ? 9 : 0.8])
        }
        let result = RunResult(runId: "r", name: "long", startedAt: "2026-01-01T00:00:00Z", stopReason: .runTime, durationSeconds: 4000,
                               scenario: Scenario(target: "http://127.0.0.1:1"), overall: StatsSummary(MetricSet(), durationSeconds: 4000),
                               stages: [], timeSeries: points, workers: [], formulas: [:])
        let charts = HTMLReport.charts(result)
        let e2e = charts.first { $0.id == "chart-e2e" }
        let p95 = e2e?.chart.series.first { $0.name == "p95" }
        #expect(p95?.points.count == 1334, "4000 seconds in 3-second bins")
        #expect(p95?.points.compactMap { $0.y }.max() == 9000, "a bin keeps its highest latency")
        #expect(charts.first { $0.id == "chart-load" }?.chart.series.first?.points.first?.y == 2, "a bin's rate is its mean")
        #expect(e2e?.caption?.contains("3-second bins") == true)
        let history = LocustCSV.history([result]).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(history.count == 4001, "header and one row per second")
        #expect(history[1].hasPrefix("1767225600,3,,Aggregated,2.000000,0.000000,500,"), "\(history[1])")
    }

    @Test func intervalPointsCarryP95ErrorClassesAndRunningTotals() {
        var aggregator = MetricsAggregator()
        func delta(_ seq: UInt64, interval: Int, _ records: [RequestRecord]) -> IntervalDelta {
            var set = MetricSet()
            records.forEach { set.record($0) }
            return IntervalDelta(worker: "w", seq: seq, interval: interval, startNs: Int64(interval) * 1_000_000_000,
                                 endNs: Int64(interval + 1) * 1_000_000_000, users: 1, inFlight: 0, stages: [0: set])
        }
        aggregator.apply(delta(0, interval: 0, [makeRecord(ttftMs: 100, itlMs: 10, tokens: 5),
                                                makeRecord(ttftMs: 1, itlMs: 1, tokens: 1, error: .http5xx)]))
        aggregator.apply(delta(1, interval: 1, [makeRecord(ttftMs: 300, itlMs: 10, tokens: 5)]))
        aggregator.closeAll()
        let series = aggregator.series
        #expect(series[0].errorsByClass == [ErrorClass.http5xx.rawValue: 1])
        #expect(series[1].errorsByClass.isEmpty)
        for key in ["ttft_p95", "itl_p95", "e2e_p95", "e2e_p66", "e2e_p99.9", "e2e_p100"] { #expect(series[0].latency[key] != nil, "\(key)") }
        // Running E2E totals (E2E = last token - send: 140 ms, 340 ms): the first second's request alone, then both.
        let first = series[0].latency["e2e_total_max"] ?? 0
        let second = series[1].latency["e2e_total_max"] ?? 0
        #expect(abs(first - 0.140) < 0.001, "\(first)")
        #expect(abs(second - 0.340) < 0.001, "\(second)")
        #expect(series[1].latency["e2e_total_min"] == series[0].latency["e2e_total_min"])
    }

    @Test("short outputs and the in-flight concurrency formula appear in the console and HTML summaries")
    func shortOutputsAndConcurrencyFormula() {
        var set = MetricSet()
        var short = RequestRecord(scheduledNs: 0, sendNs: 0, firstTokenNs: 10, tokenChunkNs: [10], endNs: 1_000, outputTokens: 2,
                                  requestedOutputTokens: 10, status: 200)
        short.shortOutput = true
        set.record(short)
        set.record(RequestRecord(scheduledNs: 0, sendNs: 0, firstTokenNs: 10, tokenChunkNs: [10], endNs: 1_000, outputTokens: 10,
                                 requestedOutputTokens: 10, status: 200))
        let summary = StatsSummary(set, durationSeconds: 1)
        let console = ConsoleReport.block(summary).joined(separator: "\n")
        #expect(console.contains("short outputs: 1 of 2 requests"), "\(console)")
        #expect(console.contains("(sum(end - send) + in flight: sum(stop - send)) / duration"))
        let html = HTMLReport.summaryTables(summary)
        #expect(html.contains("Short outputs: 1 of 2 requests"))
        let none = ConsoleReport.block(StatsSummary(MetricSet(), durationSeconds: 1)).joined(separator: "\n")
        #expect(!none.contains("short outputs"))
    }
}
