import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics

/// `--html PATH` of a run: one self-contained page with the run's charts (inline SVG), the summary tables with
/// their formulas, the stages, the errors, the workers and the scenario. Everything is read from the merged
/// `RunResult` (its summaries, histograms and 1-second series), never from raw records.
public enum HTMLReport {
    public static func render(_ result: RunResult) -> String {
        let s = result.overall
        var body = HTMLPage.heading(1, "Stampede run: \(result.name)")
        body += "<p class=\"meta\">run \(Markup.escape(result.runId)) · started \(Markup.escape(result.startedAt)) · stopped by "
            + "\(Markup.escape(result.stopReason.rawValue)) after \(Markup.escape(Fmt.fixed(result.durationSeconds, 1))) s</p>"
        let scenario = redacted(result.scenario)
        body += "<p class=\"meta\">target \(Markup.escape(scenario.target))\(Markup.escape(scenario.api.path)) · model "
            + "\(Markup.escape(scenario.model)) · \(Markup.escape(loadText(result)))</p>"
        body += HTMLPage.cards([
            ("\(s.requestsFinished)", "requests finished"),
            (Fmt.percent(s.errorRate), "error rate"),
            (Fmt.fixed(s.requestsPerSecond, 2), "requests/s"),
            (Fmt.fixed(s.outputTokensPerSecond, 1), "output tokens/s"),
            (msText(s[.ttft], \.p50), "TTFT p50"),
            (msText(s[.itl], \.p50), "ITL p50"),
            (msText(s[.e2e], \.p50), "E2E p50"),
            (msText(s[.e2e], \.p95), "E2E p95"),
        ])
        body += HTMLPage.heading(2, "Charts")
        body += "<div class=\"charts\">" + charts(result).map { HTMLPage.figure($0.chart, id: $0.id, caption: $0.caption) }.joined() + "</div>"
        body += HTMLPage.heading(2, "Summary")
        body += summaryTables(s)
        let extra = ConsoleReport.loadModelLines(result) + ConsoleReport.sloCostLines(result) + ConsoleReport.generatorLines(result)
        if !extra.isEmpty {
            body += HTMLPage.heading(2, "Open loop, stages, SLO, cost and the generator self-check")
            body += HTMLPage.pre(extra.drop { $0.isEmpty }.joined(separator: "\n"))
        }
        if result.stages.count > 1 {
            for stage in result.stages {
                body += HTMLPage.heading(3, "Stage \(stage.index): \(stage.label)")
                body += summaryTables(stage.summary, formulas: false)
            }
        }
        body += HTMLPage.heading(2, "Workers")
        var workers = [["worker", "host", "users", "requests", "errors", "req/s", "CPU %", "state"]]
        for w in result.workers {
            workers.append([w.id, w.host, "\(w.users)", "\(w.finished)", "\(w.failed)", Fmt.fixed(w.requestsPerSecond, 2),
                            w.cpuPercent.map { Fmt.fixed($0, 1) } ?? "-", w.state.rawValue])
        }
        body += HTMLPage.table(workers, left: [0, 1, 7])
        body += HTMLPage.heading(2, "Scenario")
        body += HTMLPage.pre(scenarioJSON(scenario))
        body += "<footer>Written by stampede. Charts and tables are drawn from the merged results (the same figures as --json);"
            + " latency distributions from the merged HDR histograms. Formulas: docs/metrics.md.</footer>"
        return HTMLPage.document(title: "Stampede run: \(result.name)", body: body)
    }

    public static func write(_ result: RunResult, to path: String) throws {
        try FileOutput.write(Data(render(result).utf8), to: path)
    }

    struct Chart {
        var id: String
        var chart: LineChart
        var caption: String?
    }

    /// The run's charts: load and requests/s, TTFT, ITL and E2E over time, output tokens/s, errors by class, and the
    /// latency distributions. Every time chart marks the stage boundaries.
    static func charts(_ result: RunResult) -> [Chart] {
        let series = result.timeSeries
        let palette = LineChart.palette
        let markers = result.stages.filter { $0.index > 0 }.compactMap { stage in
            stage.startSeconds.map { LineChart.Marker(x: $0, label: "stage \(stage.index)") }
        }
        func timeChart(_ title: String, _ unit: String, _ lines: [LineChart.Series], right: String? = nil) -> LineChart {
            var chart = LineChart(title: title, xLabel: "time (s)", yLabel: unit, rightLabel: right, series: lines)
            chart.markers = markers
            chart.xTicks = nil
            return chart
        }
        // A long run is drawn in bins of `width` seconds, so a chart holds at most `maxPoints` points per line:
        // rates are the bin's mean, latencies its highest per-second value.
        let width = max(1, (series.count + maxPoints - 1) / maxPoints)
        let bins = stride(from: 0, to: series.count, by: width).map { series[$0..<min($0 + width, series.count)] }
        func line(_ name: String, _ color: String, dashed: Bool = false, side: LineChart.Side = .left, highest: Bool = false,
                  _ value: (IntervalPoint) -> Double?) -> LineChart.Series {
            let points = bins.map { bin -> (x: Double, y: Double?) in
                let values = bin.compactMap(value)
                let y = values.isEmpty ? nil : highest ? values.max() : values.reduce(0, +) / Double(values.count)
                return (x: bin.first?.startSeconds ?? 0, y: y)
            }
            return LineChart.Series(name: name, points: points, color: color, dashed: dashed, side: side)
        }
        var charts: [Chart] = []

        let rps = line("requests/s", palette[0]) { $0.requestsPerSecond }
        if let open = result.scenario.openLoop {
            let target = line("target rate (req/s)", palette[4], dashed: true) { targetRate(at: $0.startSeconds, result: result, fallback: open.rate) }
            charts.append(Chart(id: "chart-load", chart: timeChart("Target rate and requests/s", "requests/s", [target, rps]),
                                caption: "requests/s = requests finished in each second"))
        } else {
            let users = line("users", palette[4], side: .right) { Double($0.users) }
            charts.append(Chart(id: "chart-load", chart: timeChart("Users and requests/s", "requests/s", [rps, users], right: "users"),
                                caption: "requests/s = requests finished in each second; users = running users at the end of it"))
        }
        for (index, metric) in [LatencyMetric.ttft, .itl, .e2e].enumerated() {
            let key = metric.rawValue
            let lines = [line("p50", palette[index + 1], highest: true) { $0.latency["\(key)_p50"].map { $0 * 1000 } },
                         line("p95", palette[index + 1], dashed: true, highest: true) { $0.latency["\(key)_p95"].map { $0 * 1000 } }]
            charts.append(Chart(id: "chart-\(key)", chart: timeChart("\(metric.title) p50 and p95 over time", "ms", lines),
                                caption: "\(metric.title) = \(metric.formula); quantiles of the requests that finished in each second"))
        }
        charts.append(Chart(id: "chart-tokens",
                            chart: timeChart("Output tokens/s", "tokens/s", [line("output tokens/s", palette[2]) { $0.outputTokensPerSecond }]),
                            caption: "output tokens of the succeeded requests that finished in each second"))
        let classes = Set(series.flatMap { $0.errorsByClass.keys }).sorted()
        let errorLines = classes.isEmpty
            ? [line("errors (none)", palette[1]) { Double($0.errorsByClass.values.reduce(0, &+|)) }]
            : classes.enumerated().map { i, name in line(name, palette[(i + 1) % palette.count]) { Double($0.errorsByClass[name] ?? 0) } }
        charts.append(Chart(id: "chart-errors", chart: timeChart("Errors over time by class", "failed requests/s", errorLines),
                            caption: "failed requests per second, by error class"))

        let total = result.total
        let decades = PercentileCurve.decades(count: total[.e2e].count)
        var curves: [LineChart.Series] = []
        for (index, key) in [HistogramKey.latency(.ttft), .latency(.itl), .latency(.e2e)].enumerated() where !total[key].isEmpty {
            curves.append(LineChart.Series(name: key.latency?.title ?? key.rawValue,
                                           points: PercentileCurve.points(total[key], decades: decades, unit: key.toDisplayUnit * 1000),
                                           color: palette[index + 1]))
        }
        var distribution = LineChart(title: "Latency distribution (percentile plot)", xLabel: "percentile", yLabel: "ms (log scale)",
                                     series: curves)
        distribution.xScale = .percentile(decades: decades)
        distribution.yScale = .log
        if width > 1 {
            for index in charts.indices {
                charts[index].caption = (charts[index].caption ?? "") + " (drawn in \(width)-second bins: rates are the bin's mean,"
                    + " latencies its highest value)"
            }
        }
        charts.append(Chart(id: "chart-distribution", chart: distribution,
                            caption: "value at each percentile, from the merged HDR histograms (3 significant digits)"))
        return charts
    }

    /// The most points a time chart draws per line (a 30-day run has 2.6 million seconds).
    static let maxPoints = 1500

    /// The open-loop rate in effect at `seconds`: the stage's, or the run's.
    static func targetRate(at seconds: Double, result: RunResult, fallback: Double) -> Double? {
        let current = result.stages.last { ($0.startSeconds ?? 0) <= seconds + 1e-9 && $0.rate != nil }
        return current?.rate ?? fallback
    }

    static func summaryTables(_ s: StatsSummary, formulas: Bool = true) -> String {
        var out = "<p>Requests: \(s.requestsFinished) finished, \(s.requestsSucceeded) ok, \(s.requestsFailed) failed (error rate "
            + "\(Markup.escape(Fmt.percent(s.errorRate))))</p>"
        var throughput = [["metric", "value"] + (formulas ? ["formula"] : [])]
        for (name, value, formula) in [
            ("requests/s", Fmt.fixed(s.requestsPerSecond, 3), "finished / duration"),
            ("completed requests/min", Fmt.fixed(s.completedRequestsPerMinute, 2), "succeeded x 60 / duration"),
            ("input tokens/s", Fmt.fixed(s.inputTokensPerSecond, 1), "sum input tokens / duration"),
            ("output tokens/s", Fmt.fixed(s.outputTokensPerSecond, 1), "sum output tokens / duration"),
            ("achieved concurrency", Fmt.fixed(s.achievedConcurrency, 2), "(sum(end - send) + in flight: sum(stop - send)) / duration"),
            ("duration", Fmt.fixed(s.durationSeconds, 2) + " s", "first user started -> load stopped"),
        ] {
            throughput.append([name, value] + (formulas ? [formula] : []))
        }
        out += HTMLPage.table(throughput, notes: [2])
        var latency = [["latency (ms)", "p50", "p90", "p95", "p99", "mean", "min", "max", "stddev", "n"] + (formulas ? ["formula"] : [])]
        for metric in LatencyMetric.allCases {
            let d = s[metric]
            guard d.count > 0 else { continue }
            latency.append([metric.title, Fmt.ms(d.p50), Fmt.ms(d.p90), Fmt.ms(d.p95), Fmt.ms(d.p99), Fmt.ms(d.mean), Fmt.ms(d.min),
                            Fmt.ms(d.max), Fmt.ms(d.stddev), "\(d.count)"] + (formulas ? [metric.formula] : []))
        }
        out += HTMLPage.table(latency, notes: [10])
        var tokens = [["per request", "p50", "p90", "p99", "mean", "min", "max"]]
        for (name, d) in [("input tokens", s.inputTokens), ("output tokens", s.outputTokens),
                          ("output tokens/s (output tokens / E2E)", s.outputTokensPerSecondPerRequest)] where d.count > 0 {
            tokens.append([name, Fmt.fixed(d.p50, 1), Fmt.fixed(d.p90, 1), Fmt.fixed(d.p99, 1), Fmt.fixed(d.mean, 1), Fmt.fixed(d.min, 1),
                           Fmt.fixed(d.max, 1)])
        }
        if tokens.count > 1 { out += HTMLPage.table(tokens) }
        if s.shortOutputs > 0 {
            out += "<p>Short outputs: \(s.shortOutputs) of \(s.requestsFinished) requests (output tokens &lt; max_tokens while "
                + "ignore_eos/min_tokens asked, or &lt; --min-output-ratio x max_tokens)</p>"
        }
        if !s.errorsByClass.isEmpty {
            var errors = [["error class", "requests", "last message"]]
            for (name, count) in s.errorsByClass.sorted(by: { $0.key < $1.key }) {
                errors.append([name, "\(count)", s.lastErrorMessages[name] ?? ""])
            }
            out += HTMLPage.table(errors, messages: [2])
        }
        return out
    }

    static func loadText(_ result: RunResult) -> String {
        let s = result.scenario
        if let stages = s.stages, !stages.isEmpty { return "stages " + stages.map(\.label).joined(separator: ", ") }
        return s.openLoop.map { "open loop \(Fmt.fixed($0.rate, 2)) req/s \($0.arrival.rawValue)" }
            ?? "\(s.users) users @ \(Fmt.fixed(s.spawnRate, 2))/s spawn"
    }

    static func msText(_ d: DistributionStats, _ quantile: KeyPath<DistributionStats, Double>) -> String {
        d.count > 0 ? Fmt.ms(d[keyPath: quantile]) + " ms" : "-"
    }

    /// The scenario as shown: a user name and password in the target URL are masked (the API key is never in
    /// the scenario, only the name of its environment variable).
    static func redacted(_ scenario: Scenario) -> Scenario {
        var scenario = scenario
        if var parts = URLComponents(string: scenario.target), parts.user != nil || parts.password != nil {
            parts.user = parts.user.map { _ in "***" }
            parts.password = parts.password.map { _ in "***" }
            scenario.target = parts.string ?? scenario.target
        }
        return scenario
    }

    static func scenarioJSON(_ scenario: Scenario) -> String {
        guard let data = try? JSONReport.encoder().encode(scenario) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
