import StampedeEngine

/// Pieces of the HTML report for a live view (the `--web` dashboard): the same charts and tables as
/// `--html`, drawn from a snapshot of the results so far, without the page around them, so that a
/// page that stays open can swap them in.
public enum HTMLLive {
    /// The dashboard's CSS: the report's, so that its charts and tables look the same.
    public static var css: String { HTMLPage.css }

    /// The cards (headline figures) of `result`.
    public static func cards(_ result: RunResult) -> String {
        let s = result.overall
        return HTMLPage.cards([
            ("\(s.requestsFinished)", "requests finished"),
            (Fmt.percent(s.errorRate), "error rate"),
            (Fmt.fixed(s.requestsPerSecond, 2), "requests/s"),
            (Fmt.fixed(s.outputTokensPerSecond, 1), "output tokens/s"),
            (HTMLReport.msText(s[.ttft], \.p50), "TTFT p50"),
            (HTMLReport.msText(s[.e2e], \.p95), "E2E p95"),
        ])
    }

    /// Every chart of the report (load and requests/s, TTFT/ITL/E2E over time, tokens/s, errors, distribution).
    public static func charts(_ result: RunResult) -> String {
        "<div class=\"charts\">"
            + HTMLReport.charts(result).map { HTMLPage.figure($0.chart, id: $0.id, caption: $0.caption) }.joined()
            + "</div>"
    }

    /// The summary tables: the whole run, then one block per stage when there are several.
    public static func stats(_ result: RunResult) -> String {
        var out = HTMLReport.summaryTables(result.overall, formulas: false)
        if result.stages.count > 1 {
            for stage in result.stages {
                out += HTMLPage.heading(3, "Stage \(stage.index): \(stage.label)")
                out += HTMLReport.summaryTables(stage.summary, formulas: false)
            }
        }
        return out
    }

    /// The workers: users, requests, CPU, state and the generator's saturation.
    public static func workers(_ result: RunResult) -> String {
        let generator = Dictionary((result.generator?.workers ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var rows = [["worker", "host", "users", "requests", "errors", "req/s", "CPU %", "state", "generator CPU share", "saturated"]]
        for w in result.workers {
            let g = generator[w.id]
            rows.append([w.id, w.host, "\(w.users)", "\(w.finished)", "\(w.failed)", Fmt.fixed(w.requestsPerSecond, 2),
                         w.cpuPercent.map { Fmt.fixed($0, 1) } ?? "-", w.state.rawValue,
                         g.map { Fmt.percent($0.cpuShareMax) } ?? "-", g.map { $0.saturated ? "yes" : "no" } ?? "-"])
        }
        return HTMLPage.table(rows, left: [0, 1, 7, 9])
    }

    /// Errors by class with the last message of each (empty when there are none).
    public static func errors(_ result: RunResult) -> String {
        let s = result.overall
        guard !s.errorsByClass.isEmpty else { return "<p>No errors.</p>" }
        var rows = [["error class", "requests", "last message"]]
        for (name, count) in s.errorsByClass.sorted(by: { $0.key < $1.key }) {
            rows.append([name, "\(count)", s.lastErrorMessages[name] ?? ""])
        }
        return HTMLPage.table(rows, messages: [2])
    }

    /// Escapes text for HTML.
    public static func escape(_ text: String) -> String { Markup.escape(text) }
}
