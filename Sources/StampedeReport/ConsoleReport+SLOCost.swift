import StampedeCore
import StampedeEngine
import StampedeMetrics

extension ConsoleReport {
    /// The SLO verdict (each clause with its measured value) and the cost figures.
    static func sloCostLines(_ result: RunResult) -> [String] {
        var out: [String] = []
        if let slo = result.slo { out.append(contentsOf: sloLines(slo)) }
        if let cost = result.cost { out.append(contentsOf: costLines(cost)) }
        return out
    }

    static func sloLines(_ slo: SLOResult) -> [String] {
        var out = [""]
        let failed = slo.failedClauses.count
        let verdict = slo.passed ? "PASSED (\(slo.clauses.count) of \(slo.clauses.count) clauses met)"
            : "FAILED (\(failed) of \(slo.clauses.count) clauses not met)"
        out.append("SLO \(verdict): \(slo.expression)")
        var rows = [["clause", "measured", "result"]]
        for clause in slo.clauses {
            rows.append([clause.expression, measuredText(clause), clause.passed ? "ok" : "FAIL"])
        }
        out.append(Fmt.table(rows, leftAligned: [0, 2]))
        out.append("    measured on the merged stats of all workers; a metric with no samples fails its clause")
        if let goodput = slo.goodput {
            out.append("  goodput: \(goodput.requests) of \(goodput.finished) finished requests met every per-request bound"
                + " (\(Fmt.percent(goodput.share))), \(Fmt.fixed(goodput.perSecond, 3)) req/s")
            out.append("    good = succeeded, and every latency clause holds for the request's own value")
            out.append("    goodput share = good / finished (failed requests are not good); goodput/s = good / duration")
        }
        return out
    }

    static func measuredText(_ clause: SLOClauseResult) -> String {
        guard let value = clause.measured else { return "no samples" }
        switch clause.unit {
        case "s": return Fmt.ms(value) + " ms"
        case "fraction": return Fmt.percent(value)
        case "requests/s": return Fmt.fixed(value, 3) + " req/s"
        case "tokens/s": return Fmt.fixed(value, 1) + " tok/s"
        default: return Fmt.fixed(value, 3)
        }
    }

    static func costLines(_ cost: CostSummary) -> [String] {
        var out = [""]
        out.append("Cost (USD)")
        let p = cost.pricing
        if let perToken = cost.perToken {
            out.append("  per-token prices: \(usd(p.inputPerMTok ?? 0)) per 1M input tokens, \(usd(p.outputPerMTok ?? 0)) per 1M output tokens")
            let d = perToken.costPerRequest
            if d.count > 0 {
                var rows = [["cost per request", "p50", "p90", "p95", "p99", "mean", "min", "max", "n"]]
                rows.append(["USD", usd(d.p50), usd(d.p90), usd(d.p95), usd(d.p99), usd(d.mean), usd(d.min), usd(d.max), "\(d.count)"])
                out.append(Fmt.table(rows))
                out.append("    cost per request = input tokens x input price / 1e6 + output tokens x output price / 1e6 (succeeded requests)")
            }
            var rows = [["metric", "value", "formula"]]
            rows.append(["total", usd(perToken.totalUSD), "sum input tokens x input price / 1e6 + sum output tokens x output price / 1e6"])
            rows.append(["per 1,000 requests", opt(perToken.perThousandRequests), "total / succeeded x 1000"])
            rows.append(["per 1M output tokens", opt(perToken.perMillionOutputTokens), "total / sum output tokens x 1e6"])
            rows.append(["per 1M total tokens", opt(perToken.perMillionTotalTokens), "total / (sum input + sum output tokens) x 1e6"])
            out.append(Fmt.table(rows, leftAligned: [0, 2]))
        }
        if let dedicated = cost.dedicated {
            let replicas = p.replicas == 1 ? "1 replica" : "\(p.replicas) replicas"
            out.append("  dedicated: \(usd(p.pricePerHour ?? 0))/h x \(replicas) = \(usd(dedicated.deploymentPerHour))/h, at the measured throughput")
            var rows = [["metric", "value", "formula"]]
            rows.append(["run total", usd(dedicated.totalUSD), "price per hour x replicas x duration / 3600"])
            rows.append(["per request", opt(dedicated.perRequest), "run total / succeeded"])
            rows.append(["per 1,000 requests", opt(dedicated.perThousandRequests), "run total / succeeded x 1000"])
            rows.append(["per 1M output tokens", opt(dedicated.perMillionOutputTokens), "run total / sum output tokens x 1e6"])
            rows.append(["per 1M total tokens", opt(dedicated.perMillionTotalTokens), "run total / (sum input + sum output tokens) x 1e6"])
            out.append(Fmt.table(rows, leftAligned: [0, 2]))
        }
        if let at = cost.atSustainableRPS {
            out.append("  dedicated at the maximum sustainable rate, \(Fmt.fixed(at.requestsPerSecond, 3)) req/s")
            var rows = [["metric", "value", "formula"]]
            rows.append(["per request", usd(at.perRequest), "price per hour x replicas / (3600 x rate)"])
            rows.append(["per 1,000 requests", usd(at.perThousandRequests), "per request x 1000"])
            rows.append(["per 1M output tokens", opt(at.perMillionOutputTokens), "per request / mean output tokens x 1e6"])
            rows.append(["per 1M total tokens", opt(at.perMillionTotalTokens), "per request / (mean input + mean output tokens) x 1e6"])
            out.append(Fmt.table(rows, leftAligned: [0, 2]))
        }
        return out
    }

    static func opt(_ value: Double?) -> String { value.map(usd) ?? "-" }

    /// Dollars: cents from $1 up, 4 significant digits below (cost per request is often a fraction of a cent).
    static func usd(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let magnitude = abs(value)
        if magnitude == 0 { return "$0" }
        if magnitude >= 1 { return "$" + Fmt.fixed(value, 2) }
        var digits = 3
        var scaled = magnitude
        while scaled < 1, digits < 12 {
            scaled *= 10
            digits += 1
        }
        return "$" + Fmt.fixed(value, digits)
    }
}
