import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics

/// `--csv PREFIX`: Locust's four CSV files (`PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv`,
/// `PREFIX_exceptions.csv`), with Locust's columns in Locust's order (as of Locust 2.x) and times in ms, so that
/// scripts written for Locust read them unchanged. Stampede's own LLM columns follow Locust's.
///
/// Read from the merged results only: the run's and each stage's summary and histograms, and the 1-second series.
/// "Response time" is E2E (of succeeded requests: a failed request has no E2E). Content size is not measured (0).
public enum LocustCSV {
    public static let statsColumns = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
                                      "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s"]
        + percentileColumns
        + ["TTFT Median", "TTFT Average", "TTFT 95%", "TTFT 99%", "ITL Median", "ITL Average", "ITL 95%", "ITL 99%",
           "Average Input Tokens", "Average Output Tokens", "Input Tokens/s", "Output Tokens/s"]

    public static let historyColumns = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"]
        + percentileColumns
        + ["Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
           "Total Min Response Time", "Total Max Response Time", "Total Average Content Size"]
        + ["TTFT 50%", "TTFT 95%", "ITL 50%", "ITL 95%", "Output Tokens/s", "In Flight"]

    public static let failuresColumns = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
    public static let exceptionsColumns = ["Count", "Message", "Traceback", "Nodes"]

    /// "50%", "66%", … "99.9%", "99.99%", "100%".
    static var percentileColumns: [String] { MetricsAggregator.locustPercentiles.map { MetricsAggregator.percentileLabel($0) + "%" } }

    /// Locust's HTTP method column: every Stampede request is a POST.
    static let method = "POST"

    /// The four files, by suffix ("_stats.csv", …), as text.
    public static func files(_ result: RunResult) -> [(suffix: String, text: String)] {
        let aggregated = Entry(type: "", name: "Aggregated", summary: result.overall, histograms: result.total, window: 0..<Double.infinity)
        return [("_stats.csv", stats(entries(result), aggregated: aggregated)), ("_stats_history.csv", history([result])),
                ("_failures.csv", failures(entries(result).map { ($0, result) })), ("_exceptions.csv", CSVText.table([exceptionsColumns]))]
    }

    /// A sweep's files: one stats row per step (its measured stage, named by its load), an aggregated row over
    /// every step's measured requests (their histograms merged), the steps' 1-second rows one after another,
    /// and each step's failures. `runs` are the steps' results, in the order of `sweep.steps`.
    public static func sweepFiles(_ sweep: SweepResult, runs: [RunResult]) -> [(suffix: String, text: String)] {
        var stepEntries: [(Entry, RunResult)] = []
        var merged = MetricSet()
        var seconds = 0.0
        for (step, run) in zip(sweep.steps, runs) {
            guard let measured = run.stages.last else { continue }
            let name = "step \(step.number): " + (step.users.map { "\($0) user\($0 == 1 ? "" : "s")" } ?? step.rate.map { "\($0) req/s" } ?? "")
            let start = measured.startSeconds ?? 0
            stepEntries.append((Entry(type: method, name: name, summary: measured.summary, histograms: measured.total,
                                      window: start..<Double.infinity), run))
            merged.add(measured.total)
            seconds += measured.summary.durationSeconds
        }
        let aggregated = Entry(type: "", name: "Aggregated", summary: StatsSummary(merged, durationSeconds: seconds), histograms: merged,
                               window: 0..<Double.infinity)
        return [("_stats.csv", stats(stepEntries.map(\.0), aggregated: aggregated)), ("_stats_history.csv", history(runs)),
                ("_failures.csv", failures(stepEntries)), ("_exceptions.csv", CSVText.table([exceptionsColumns]))]
    }

    /// Writes the four files; returns their paths.
    public static func write(_ result: RunResult, prefix: String) throws -> [String] {
        try write(files(result), prefix: prefix)
    }

    /// Writes a sweep's four files; returns their paths.
    public static func write(_ sweep: SweepResult, runs: [RunResult], prefix: String) throws -> [String] {
        try write(sweepFiles(sweep, runs: runs), prefix: prefix)
    }

    static func write(_ files: [(suffix: String, text: String)], prefix: String) throws -> [String] {
        try files.map { suffix, text in
            let path = prefix + suffix
            try FileOutput.write(Data(text.utf8), to: path)
            return path
        }
    }

    /// A Locust "entry": one row of stats.csv. The endpoint, or one per stage when the run has several.
    struct Entry {
        var type: String
        var name: String
        var summary: StatsSummary
        var histograms: MetricSet
        /// Seconds on the run clock the entry covers (for first/last seen of its failures).
        var window: Range<Double>
    }

    static func entries(_ result: RunResult) -> [Entry] {
        guard result.stages.count > 1 else {
            return [Entry(type: method, name: result.scenario.api.path, summary: result.overall, histograms: result.total,
                          window: 0..<Double.infinity)]
        }
        return result.stages.enumerated().map { offset, stage in
            let start = stage.startSeconds ?? 0
            let end = offset + 1 < result.stages.count ? (result.stages[offset + 1].startSeconds ?? .infinity) : .infinity
            return Entry(type: method, name: stage.label, summary: stage.summary, histograms: stage.total, window: start..<max(start, end))
        }
    }

    static func stats(_ entries: [Entry], aggregated: Entry) -> String {
        var rows = [statsColumns]
        for entry in entries + [aggregated] {
            let s = entry.summary
            let e2e = s[.e2e]
            let ttft = s[.ttft]
            let itl = s[.itl]
            let duration = max(s.durationSeconds, 1e-9)
            var row = [entry.type, entry.name, "\(s.requestsFinished)", "\(s.requestsFailed)",
                       e2e.count > 0 ? wholeMs(Swift.min(Swift.max(e2e.p50, e2e.min), e2e.max)) : "0", ms(e2e.count > 0 ? e2e.mean : 0), ms(e2e.min), ms(e2e.max), "0",
                       number(s.requestsPerSecond), number(Double(s.requestsFailed) / duration)]
            row += percentiles(entry.histograms[.e2e])
            row += [ms(ttft.p50), ms(ttft.mean), ms(ttft.p95), ms(ttft.p99), ms(itl.p50), ms(itl.mean), ms(itl.p95), ms(itl.p99),
                    number(s.inputTokens.mean), number(s.outputTokens.mean), number(s.inputTokensPerSecond), number(s.outputTokensPerSecond)]
            rows.append(row)
        }
        return CSVText.table(rows)
    }

    /// Locust's percentile columns: whole ms from the HDR histogram, kept within the exact minimum and maximum
    /// (a bucket's value can lie a little past them; Locust clamps its median the same way), "N/A" without samples.
    static func percentiles(_ histogram: MetricHistogram) -> [String] {
        MetricsAggregator.locustPercentiles.map { p in
            let value = Swift.min(Swift.max(histogram.value(atPercentile: p), histogram.min), histogram.max)
            return histogram.isEmpty ? "N/A" : wholeMs(Double(value) * HistogramKey.latency(.e2e).toDisplayUnit)
        }
    }

    /// One row per second of the run, as Locust's aggregated history row. The percentile columns are those of
    /// the requests that finished in that second (Locust's "current" percentiles); the "Total" columns cover
    /// every request up to the end of that second (the counts over all `runs`, the latencies within each run).
    static func history(_ runs: [RunResult]) -> String {
        var rows = [historyColumns]
        var totalFinished = 0
        var totalFailed = 0
        for result in runs {
            let start = startEpoch(result.startedAt)
            var totals = (p50: "0", mean: "0", min: "0", max: "0")
            for point in result.timeSeries {
                totalFinished &+|= point.finished
                totalFailed &+|= point.failed
                let l = point.latency
                if let p50 = l["e2e_total_p50"], let mean = l["e2e_total_mean"], let low = l["e2e_total_min"], let high = l["e2e_total_max"] {
                    totals = (wholeMs(p50), ms(mean), ms(low), ms(high))
                }
                var row = ["\(Int(start + point.startSeconds))", "\(point.users)", "", "Aggregated",
                           number(point.requestsPerSecond), number(Double(point.failed))]
                row += MetricsAggregator.locustPercentiles.map { p in
                    l["e2e_p\(MetricsAggregator.percentileLabel(p))"].map(wholeMs) ?? "N/A"
                }
                row += ["\(totalFinished)", "\(totalFailed)", totals.p50, totals.mean, totals.min, totals.max, "0"]
                row += ["ttft_p50", "ttft_p95", "itl_p50", "itl_p95"].map { l[$0].map(ms) ?? "N/A" }
                row += [number(point.outputTokensPerSecond), "\(point.inFlight)"]
                rows.append(row)
            }
        }
        return CSVText.table(rows)
    }

    /// One row per entry and error class: the class and its last message, how often, and the first and last
    /// second (UTC) in which it occurred.
    static func failures(_ entries: [(Entry, RunResult)]) -> String {
        var rows = [failuresColumns]
        for (entry, result) in entries {
            let start = startEpoch(result.startedAt)
            for (errorClass, count) in entry.summary.errorsByClass.sorted(by: { $0.key < $1.key }) where count > 0 {
                let seen = result.timeSeries.filter { entry.window.contains($0.startSeconds) && ($0.errorsByClass[errorClass] ?? 0) > 0 }
                let message = entry.summary.lastErrorMessages[errorClass].map { "\(errorClass): \($0)" } ?? errorClass
                rows.append([entry.type, entry.name, message, "\(count)",
                             seen.first.map { utc(start + $0.startSeconds) } ?? "", seen.last.map { utc(start + $0.startSeconds) } ?? ""])
            }
        }
        return CSVText.table(rows)
    }

    static func startEpoch(_ iso: String) -> Double {
        ISO8601DateFormatter().date(from: iso)?.timeIntervalSince1970 ?? 0
    }

    /// Locust's `format_utc_timestamp`: whole seconds, `2024-01-31T12:00:00Z`.
    static func utc(_ epoch: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: epoch.rounded(.down)))
    }

    /// Seconds → ms with µs resolution (the histograms' unit).
    static func ms(_ seconds: Double) -> String { number(seconds * 1000, digits: 3) }
    /// Seconds → whole ms, as Locust writes medians and percentiles.
    static func wholeMs(_ seconds: Double) -> String {
        let value = (seconds * 1000).rounded()
        return value.isFinite && abs(value) < 1e15 ? String(Int(value)) : "0"
    }

    static func number(_ value: Double, digits: Int = 6) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "0"
    }
}

/// RFC 4180 text as Python's `csv.writer` writes it: CRLF line ends; a field with a comma, a quote, CR or LF
/// is quoted, its quotes doubled.
enum CSVText {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func table(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }
}
