import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics

extension ConsoleReport {
    /// Open-loop figures: requested and achieved rate, dropped arrivals, schedule lag; and the stage table.
    static func loadModelLines(_ result: RunResult) -> [String] {
        var out: [String] = []
        if let open = result.openLoop {
            out.append("")
            var process = open.arrival.rawValue
            if open.arrival == .gamma { process += ", burstiness \(Fmt.fixed(open.burstiness, 2))" }
            out.append("Open loop (\(process) arrivals\(open.maxConcurrency.map { ", max concurrency \($0)" } ?? ""))")
            let lag = { (value: Double?) in value.map { Fmt.ms($0) + " ms" } ?? "-" }
            let rows = [
                ["metric", "value", "formula"],
                ["requested rate", Fmt.fixed(open.requestedRate, 3) + " req/s", "--rate, time-weighted over the rate stages"],
                ["achieved rate", Fmt.fixed(open.achievedRate, 3) + " req/s", "finished / duration"],
                ["dropped arrivals", "\(open.droppedArrivals)", "arrivals with max-concurrency requests in flight"],
                ["schedule lag p50", lag(open.scheduleLagP50Seconds), "actual send - scheduled send"],
                ["schedule lag p99", lag(open.scheduleLagP99Seconds), "actual send - scheduled send"],
            ]
            out.append(Fmt.table(rows, leftAligned: [0, 2]))
            out.append("    latencies count from the scheduled send (coordinated omission): a queue shows up in them")
        }
        if result.stages.contains(where: { $0.users != nil || $0.rate != nil }) {
            out.append("")
            out.append("Stages")
            var rows = [["stage", "target", "start s", "duration s", "requests", "req/s", "errors", "TTFT p50", "E2E p50", "E2E p99", "dropped"]]
            for stage in result.stages {
                let s = stage.summary
                let target = stage.users.map { "\($0) users" } ?? stage.rate.map { Fmt.fixed($0, 2) + " req/s" } ?? "-"
                rows.append(["\(stage.index)", target, stage.startSeconds.map { Fmt.fixed($0, 1) } ?? "-", Fmt.fixed(s.durationSeconds, 1),
                             "\(s.requestsFinished)", Fmt.fixed(s.requestsPerSecond, 2), "\(s.requestsFailed)",
                             msCell(s[.ttft]), msCell(s[.e2e]), msCell(s[.e2e], p99: true), "\(s.droppedArrivals)"])
            }
            out.append(Fmt.table(rows, leftAligned: [0, 1]))
            out.append("    a request belongs to the stage it was scheduled in; req/s = finished / the stage's time in the run; latencies in ms")
        }
        return out
    }

    static func msCell(_ d: DistributionStats, p99: Bool = false) -> String {
        d.count > 0 ? Fmt.ms(p99 ? d.p99 : d.p50) : "-"
    }
}

/// The console form of a `stampede sweep`.
public enum SweepReport {
    /// One line per finished step, for the live log.
    public static func stepLine(_ step: SweepStep) -> String {
        "step \(step.number): \(level(step))  \(Fmt.fixed(step.requestsPerSecond, 2)) req/s  p50 E2E \(ms(step.e2eP50))"
            + "  p50 TTFT \(ms(step.ttftP50))  errors \(step.errors)  -> \(step.verdict.rawValue)"
    }

    public static func render(_ sweep: SweepResult) -> String {
        func label(_ seconds: Double) -> String { Duration.nanoseconds(Int64((seconds * 1e9).rounded())).shortLabel }
        var out: [String] = []
        out.append("Stampede sweep: \(sweep.name)  (by \(sweep.axis.rawValue); step \(label(sweep.stepSeconds)) after"
            + " \(label(sweep.warmupSeconds)) warm-up; knee at p50 E2E > \(Fmt.fixed(sweep.kneeFactor, 2)) x the 1-user value"
            + ", or error rate > \(Fmt.percent(sweep.maxErrorRate))\(sweep.sloExpression.map { ", or SLO \($0) failed" } ?? ""))")
        out.append("")
        var rows = [["step", "phase", "load", "req/s", "out tok/s", "TTFT p50", "TTFT p95", "ITL p50", "ITL p95", "E2E p50", "E2E p95",
                     "errors", "verdict"]]
        for step in sweep.steps {
            rows.append(["\(step.number)", step.phase.rawValue, level(step), Fmt.fixed(step.requestsPerSecond, 2),
                         Fmt.fixed(step.outputTokensPerSecond, 1), ms(step.ttftP50), ms(step.ttftP95), ms(step.itlP50), ms(step.itlP95),
                         ms(step.e2eP50), ms(step.e2eP95), "\(step.errors)", step.verdict.rawValue])
        }
        out.append(Fmt.table(rows, leftAligned: [0, 1, 2, 12]))
        out.append("    latencies in ms; req/s = finished / step time; warm-up requests are not counted")
        out.append("")
        out.append("Answers")
        let a = sweep.answers
        if let best = a.bestLatency {
            out.append("  best latency (1 user):        p50 E2E \(ms(best.e2eP50)) ms, p50 TTFT \(ms(best.ttftP50)) ms, p50 ITL \(ms(best.itlP50)) ms")
        } else {
            out.append("  best latency (1 user):        no successful request")
        }
        if let top = a.maxThroughput {
            out.append("  largest RPS before the knee:  \(Fmt.fixed(top.requestsPerSecond, 2)) req/s at \(point(top))")
        } else {
            out.append("  largest RPS before the knee:  none (the first step was already past it)")
        }
        if sweep.sloExpression != nil {
            if let good = a.maxGoodput {
                out.append("  largest RPS within the SLO:   \(Fmt.fixed(good.requestsPerSecond, 2)) req/s"
                    + " (goodput \(Fmt.fixed(good.goodputPerSecond ?? 0, 2)) req/s) at \(point(good))")
            } else {
                out.append("  largest RPS within the SLO:   none (no step met the SLO)")
            }
        }
        if let knee = a.knee {
            out.append("  knee:                         \(point(knee)) (\(knee.reason ?? "knee"))")
        } else {
            out.append("  knee:                         not reached (stopped by \(sweep.stoppedBy))")
        }
        if let advice = sweep.advice { out.append("  WARNING: \(advice)") }
        if let cost = a.costAtMaxThroughput {
            if let at = cost.atSustainableRPS {
                out.append("  cost at \(Fmt.fixed(at.requestsPerSecond, 2)) req/s:      $\(Fmt.fixed(at.perThousandRequests, 4)) per 1k requests"
                    + (at.perMillionOutputTokens.map { ", $\(Fmt.fixed($0, 4)) per 1M output tokens" } ?? "")
                    + " (hourly price / (3600 x req/s))")
            }
            if let tokens = cost.perToken {
                out.append("  per-token cost at that step:  $\(Fmt.fixed(tokens.costPerRequest.p50, 6)) p50 per request"
                    + (tokens.perThousandRequests.map { ", $\(Fmt.fixed($0, 4)) per 1k requests" } ?? "")
                    + (tokens.perMillionOutputTokens.map { ", $\(Fmt.fixed($0, 4)) per 1M output tokens" } ?? ""))
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `--json PATH` of a sweep: the steps and the answers, snake_case like the run report.
    public static func encode(_ sweep: SweepResult) throws -> Data {
        try JSONReport.encoder().encode(sweep)
    }

    public static func write(_ sweep: SweepResult, to path: String) throws {
        try FileOutput.write(try encode(sweep), to: path)
    }

    static func level(_ step: SweepStep) -> String {
        if let rate = step.rate { return Fmt.fixed(rate, 2) + " req/s" }
        return users(step.users ?? 0)
    }

    static func users(_ n: Int) -> String { n == 1 ? "1 user" : "\(n) users" }

    static func point(_ p: SweepPoint) -> String {
        if let rate = p.rate { return "rate \(Fmt.fixed(rate, 2)) req/s" }
        return users(p.users ?? 0)
    }

    static func ms(_ seconds: Double?) -> String { seconds.map { Fmt.ms($0) } ?? "-" }
}
