import StampedeCore
import StampedeEngine
import StampedeMetrics

/// The end-of-run console report. Every metric row names its formula.
public enum ConsoleReport {
    public static func render(_ result: RunResult, showWorkers: Bool = false) -> String {
        let s = result.scenario
        var out: [String] = []
        out.append("Stampede report: \(result.name)  (run \(result.runId.prefix(8)), started \(result.startedAt))")
        out.append("  target \(s.target)  api \(s.api.rawValue)  model \(s.model)")
        var load: String
        if let open = s.openLoop {
            load = "  open loop \(Fmt.fixed(open.rate, 3)) req/s \(open.arrival.rawValue)"
            if open.arrival == .gamma { load += " (burstiness \(Fmt.fixed(open.burstiness, 2)))" }
            if let cap = open.maxConcurrency { load += "  max-concurrency \(cap)" }
        } else {
            load = "  users \(s.users) @ \(Fmt.fixed(s.spawnRate, 2))/s spawn"
        }
        if let stages = s.stages, !stages.isEmpty { load += "  stages \(stages.map(\.label).joined(separator: ", "))" }
        if let t = s.runTimeSeconds { load += "  run-time \(Fmt.fixed(t, 0))s" }
        if let m = s.maxRequests { load += "  max-requests \(m)" }
        load += "  input \(s.input.mean)±\(s.input.stddev)  output \(s.output.mean)±\(s.output.stddev) tokens"
        out.append(load)
        out.append("  stopped by \(result.stopReason.rawValue) after \(Fmt.fixed(result.durationSeconds, 2)) s")
        out.append("")
        out.append(contentsOf: block(result.overall))
        out.append(contentsOf: loadModelLines(result))
        out.append(contentsOf: sloCostLines(result))
        out.append(contentsOf: generatorLines(result))
        if result.stages.count > 1 {
            for stage in result.stages {
                out.append("")
                out.append("Stage \(stage.index): \(stage.label)")
                out.append(contentsOf: block(stage.summary))
            }
        }
        if showWorkers || result.workers.count > 1 {
            out.append("")
            out.append("Workers")
            var rows = [["worker", "host", "users", "requests", "errors", "req/s", "CPU %", "state"]]
            for w in result.workers {
                rows.append([w.id, w.host, "\(w.users)", "\(w.finished)", "\(w.failed)", Fmt.fixed(w.requestsPerSecond, 2),
                             w.cpuPercent.map { Fmt.fixed($0, 1) } ?? "-", w.state.rawValue])
            }
            out.append(Fmt.table(rows, leftAligned: [0, 1, 7]))
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func block(_ summary: StatsSummary) -> [String] {
        var out: [String] = []
        out.append("Requests: \(summary.requestsFinished) finished, \(summary.requestsSucceeded) ok, \(summary.requestsFailed) failed"
            + " (error rate \(Fmt.percent(summary.errorRate)))")
        if !summary.errorsByClass.isEmpty {
            let parts = summary.errorsByClass.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            out.append("  errors by class: " + parts.joined(separator: " "))
            for (errorClass, message) in summary.lastErrorMessages.sorted(by: { $0.key < $1.key }) {
                out.append("    last \(errorClass): \(message)")
            }
        }
        out.append("")
        out.append("Throughput")
        let throughput: [[String]] = [
            ["metric", "value", "formula"],
            ["requests/s", Fmt.fixed(summary.requestsPerSecond, 3), "finished / duration"],
            ["completed requests/min", Fmt.fixed(summary.completedRequestsPerMinute, 2), "succeeded x 60 / duration"],
            ["input tokens/s", Fmt.fixed(summary.inputTokensPerSecond, 1), "sum input tokens / duration"],
            ["output tokens/s", Fmt.fixed(summary.outputTokensPerSecond, 1), "sum output tokens / duration"],
            ["achieved concurrency", Fmt.fixed(summary.achievedConcurrency, 2), "(sum(end - send) + in flight: sum(stop - send)) / duration"],
        ]
        out.append(Fmt.table(throughput, leftAligned: [0, 2]))
        out.append("")
        out.append("Latency (ms)")
        var rows = [["metric", "p50", "p90", "p95", "p99", "mean", "min", "max", "stddev", "n"]]
        for metric in LatencyMetric.allCases {
            let d = summary[metric]
            guard d.count > 0 else { continue }
            rows.append([metric.title, Fmt.ms(d.p50), Fmt.ms(d.p90), Fmt.ms(d.p95), Fmt.ms(d.p99), Fmt.ms(d.mean),
                         Fmt.ms(d.min), Fmt.ms(d.max), Fmt.ms(d.stddev), "\(d.count)"])
        }
        out.append(Fmt.table(rows))
        for metric in LatencyMetric.allCases where summary[metric].count > 0 {
            out.append("    \(Fmt.pad(metric.title, 14)) = \(metric.formula)")
        }
        out.append("")
        out.append("Tokens per request")
        var tokenRows = [["metric", "p50", "p90", "p99", "mean", "min", "max"]]
        for (name, d) in [("input tokens", summary.inputTokens), ("output tokens", summary.outputTokens),
                          ("output tokens/s", summary.outputTokensPerSecondPerRequest)] where d.count > 0 {
            tokenRows.append([name, Fmt.fixed(d.p50, 1), Fmt.fixed(d.p90, 1), Fmt.fixed(d.p99, 1), Fmt.fixed(d.mean, 1),
                              Fmt.fixed(d.min, 1), Fmt.fixed(d.max, 1)])
        }
        out.append(Fmt.table(tokenRows))
        let sources = summary.tokenSources.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        out.append("    input tokens: server count \(summary.inputTokensTotal), client estimate \(summary.inputTokensEstimateTotal)"
            + " (ceil(words x 4/3)); counts from: \(sources.isEmpty ? "-" : sources)")
        if summary.shortOutputs > 0 {
            out.append("    short outputs: \(summary.shortOutputs) of \(summary.requestsFinished) requests"
                + " (output tokens < max_tokens while ignore_eos/min_tokens asked, or < --min-output-ratio x max_tokens)")
        }
        out.append("    output tokens/s per request = output tokens / E2E")
        if let rate = summary.correctnessPassRate {
            out.append("")
            out.append("Correctness (numerals to digits): \(Fmt.percent(rate)) of \(summary.correctnessChecked) passed")
        }
        return out
    }
}

/// The one-line live progress display.
public enum LiveLine {
    public static func render(_ status: LiveStatus) -> String {
        let ttft = status.ttftP50Seconds.map { Fmt.ms($0) + " ms" } ?? "-"
        var line = "[\(Fmt.fixed(status.elapsedSeconds, 0))s] users \(status.users)  req/s \(Fmt.fixed(status.requestsPerSecond, 1))"
        line += "  p50 TTFT \(ttft)  out tok/s \(Fmt.fixed(status.outputTokensPerSecond, 0))  done \(status.finished)  errors \(status.errors)"
        if status.workers > 1 { line += "  workers \(status.workers)" }
        return line
    }
}
