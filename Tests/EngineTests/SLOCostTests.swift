import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeReport
import StampedeTestSupport
import Testing

/// A record with the given token counts, priced and judged the way the worker does it.
private func priced(_ r: RequestRecord, slo: SLO?, pricing: Pricing?) -> RequestRecord {
    var r = r
    if r.succeeded { r.sloMet = slo?.isMet(by: r) }
    r.costMicroUSD = pricing?.costMicroUSD(of: r)
    return r
}

private func tokens(input: Int, output: Int, ttftMs: Int64 = 100, failed: Bool = false) -> RequestRecord {
    var r = makeRecord(ttftMs: ttftMs, itlMs: 10, tokens: 5, error: failed ? .http5xx : nil)
    if !failed {
        r.inputTokens = input
        r.outputTokens = output
    }
    return r
}

/// Within `tolerance`, relative to `b`.
private func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tolerance * abs(b)
}

@Suite("SLO verdicts, goodput and cost")
struct SLOCostTests {
    // MARK: Goodput

    @Test func goodputCountsHandBuiltRecords() throws {
        let slo = try SLO.parse("ttft_p90<=200ms,itl_p95<=15ms,error_rate<=50%")
        var set = MetricSet()
        // TTFT 100/150/200 ms with ITL 10 ms: good. TTFT 250 ms: not. ITL 20 ms: not. A failure: not.
        for ttft in [100, 150, 200] as [Int64] { set.record(priced(makeRecord(ttftMs: ttft, itlMs: 10, tokens: 11), slo: slo, pricing: nil)) }
        set.record(priced(makeRecord(ttftMs: 250, itlMs: 10, tokens: 11), slo: slo, pricing: nil))
        set.record(priced(makeRecord(ttftMs: 100, itlMs: 20, tokens: 11), slo: slo, pricing: nil))
        set.record(priced(makeRecord(ttftMs: 100, itlMs: 10, tokens: 11, error: .timeout), slo: slo, pricing: nil))
        #expect(set.counters.goodput == 3)
        let summary = StatsSummary(set, durationSeconds: 2)
        #expect(summary.goodputRequests == 3)
        #expect(summary.goodputPerSecond == 1.5)

        let verdict = SLOResult.evaluate(slo, summary: summary)
        let goodput = try #require(verdict.goodput)
        #expect(goodput.requests == 3)
        #expect(goodput.finished == 6)
        #expect(goodput.share == 0.5)          // good / finished: the failed request counts against it
        #expect(goodput.perSecond == 1.5)
    }

    @Test func goodputIsAbsentWithoutPerRequestBounds() throws {
        let slo = try SLO.parse("error_rate<=1%")
        var set = MetricSet()
        set.record(priced(makeRecord(ttftMs: 100, itlMs: 10, tokens: 11), slo: slo, pricing: nil))
        #expect(set.counters.goodput == 0)
        #expect(SLOResult.evaluate(slo, summary: StatsSummary(set, durationSeconds: 1)).goodput == nil)
    }

    // MARK: Verdicts

    func summary() -> StatsSummary {
        var set = MetricSet()
        // TTFT 100 ms ×3 and 300 ms; ITL 20 ms; one throttled failure: error rate 1/5.
        for ttft in [100, 100, 100, 300] as [Int64] { set.record(makeRecord(ttftMs: ttft, itlMs: 20, tokens: 11)) }
        set.record(makeRecord(ttftMs: 1, itlMs: 1, tokens: 1, error: .throttled))
        return StatsSummary(set, durationSeconds: 2)
    }

    @Test func eachClauseGetsItsMeasuredValue() throws {
        let slo = try SLO.parse("ttft_p50<=150ms,ttft_max<=250ms,itl_p95<=25ms,error_rate<=10%,throttled_rate<=20%,"
            + "requests_per_s>=2,output_tokens_per_s>=30")
        let verdict = SLOResult.evaluate(slo, summary: summary())
        #expect(verdict.expression == slo.expression)
        #expect(verdict.clauses.map(\.expression) == slo.clauses.map(\.text))
        #expect(verdict.clauses.map(\.passed) == [true, false, true, false, true, true, false])
        #expect(!verdict.passed)
        #expect(verdict.failedClauses.map(\.metric) == ["ttft_max", "error_rate", "output_tokens_per_s"])
        let m = verdict.clauses.map(\.measured)
        #expect(close(m[0], 0.100, 1e-3))
        #expect(close(m[1], 0.300, 1e-3))
        #expect(close(m[2], 0.020, 1e-3))
        #expect(m[3] == 0.2)
        #expect(m[4] == 0.2)
        #expect(m[5] == 2.5)                  // 5 finished / 2 s
        #expect(m[6] == 22)                   // 44 tokens / 2 s
        #expect(verdict.clauses[1].op == "<=")
        #expect(verdict.clauses[1].threshold == 0.25)
        #expect(verdict.clauses[1].unit == "s")
        #expect(verdict.clauses[3].unit == "fraction")
    }

    @Test func aPassingSLOPasses() throws {
        let verdict = SLOResult.evaluate(try SLO.parse("ttft_p99<=1s,error_rate<=20%,requests_per_s>=2.5"), summary: summary())
        #expect(verdict.passed)
        #expect(verdict.failedClauses.isEmpty)
    }

    @Test func aMetricWithoutSamplesFails() throws {
        var set = MetricSet()
        set.record(makeRecord(ttftMs: 1, itlMs: 1, tokens: 1, error: .connect))
        let verdict = SLOResult.evaluate(try SLO.parse("ttft_p90<=2s"), summary: StatsSummary(set, durationSeconds: 1))
        #expect(!verdict.passed)
        #expect(verdict.clauses[0].measured == nil)
    }

    @Test func verdictEncodesWithEveryClauseField() throws {
        let verdict = SLOResult.evaluate(try SLO.parse("ttft_p50<=150ms"), summary: summary())
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(verdict)) as? [String: Any])
        let clause = try #require((object["clauses"] as? [[String: Any]])?.first)
        for key in ["expression", "metric", "op", "threshold", "measured", "passed"] { #expect(clause[key] != nil, "\(key)") }
        #expect(try JSONDecoder().decode(SLOResult.self, from: JSONEncoder().encode(verdict)) == verdict)
    }

    // MARK: Cost

    /// Four requests of 550 input and 150 output tokens, and one failure, over 90 s.
    func pricedSummary(_ pricing: Pricing) -> StatsSummary {
        var set = MetricSet()
        for _ in 0..<4 { set.record(priced(tokens(input: 550, output: 150), slo: nil, pricing: pricing)) }
        set.record(priced(tokens(input: 550, output: 150, failed: true), slo: nil, pricing: pricing))
        return StatsSummary(set, durationSeconds: 90)
    }

    @Test func perTokenCostFormulas() throws {
        let pricing = Pricing(inputPerMTok: 0.7, outputPerMTok: 2.8)
        let summary = pricedSummary(pricing)
        let cost = CostSummary.compute(pricing, summary: summary)
        #expect(cost.dedicated == nil)
        let perToken = try #require(cost.perToken)
        // Per request: 550 × 0.7e-6 + 150 × 2.8e-6 = $0.000805; the histogram (nano-USD, 3 significant
        // digits) holds it within its bucket's 0.1%.
        #expect(perToken.costPerRequest.count == 4)
        #expect(close(perToken.costPerRequest.p50, 0.000805, 1e-3))
        #expect(close(perToken.costPerRequest.mean, 0.000805, 1e-3))
        #expect(close(perToken.costPerRequest.max, 0.000805, 1e-3))
        #expect(close(perToken.totalUSD, 4 * 0.000805))                          // $0.00322
        #expect(close(perToken.perThousandRequests, 0.805))                     // 0.00322 / 4 × 1000
        #expect(close(perToken.perMillionOutputTokens, 0.00322 / 600 * 1e6))    // $5.3667
        #expect(close(perToken.perMillionTotalTokens, 1.15))                    // 0.00322 / 2800 × 1e6
    }

    @Test func dedicatedCostFormulas() throws {
        let pricing = Pricing(pricePerHour: 4, replicas: 2)
        let summary = pricedSummary(pricing)
        #expect(summary.costPerRequest.count == 0)
        let cost = CostSummary.compute(pricing, summary: summary)
        #expect(cost.perToken == nil)
        let dedicated = try #require(cost.dedicated)
        #expect(dedicated.deploymentPerHour == 8)
        #expect(close(dedicated.totalUSD, 0.2))                             // 8 $/h × 90 s / 3600
        #expect(close(dedicated.perRequest, 0.05))                          // 0.2 / 4 succeeded
        #expect(close(dedicated.perThousandRequests, 50))
        #expect(close(dedicated.perMillionOutputTokens, 0.2 / 600 * 1e6))   // $333.33
        #expect(close(dedicated.perMillionTotalTokens, 0.2 / 2800 * 1e6))   // $71.43
    }

    @Test func bothPricesGiveBothBlocks() {
        let pricing = Pricing(pricePerHour: 4, inputPerMTok: 0.7, outputPerMTok: 2.8)
        let cost = CostSummary.compute(pricing, summary: pricedSummary(pricing))
        #expect(cost.perToken != nil && cost.dedicated != nil)
    }

    @Test func noSucceededRequestsGiveNoRatios() throws {
        let pricing = Pricing(pricePerHour: 4, inputPerMTok: 0.7, outputPerMTok: 2.8)
        var set = MetricSet()
        set.record(priced(tokens(input: 550, output: 150, failed: true), slo: nil, pricing: pricing))
        let cost = CostSummary.compute(pricing, summary: StatsSummary(set, durationSeconds: 10))
        #expect(cost.perToken?.totalUSD == 0)
        #expect(cost.perToken?.perThousandRequests == nil)
        #expect(cost.dedicated?.perRequest == nil)
        #expect(close(cost.dedicated?.totalUSD, 4.0 * 10 / 3600))
    }

    @Test func costAtTheSustainableRate() throws {
        let pricing = Pricing(pricePerHour: 4, replicas: 2)
        let at = try #require(CostSummary.atSustainableRPS(2, pricing: pricing, meanOutputTokens: 150, meanInputTokens: 550))
        // 8 $/h / (3600 × 2 req/s) = $0.0011111 per request.
        #expect(at.requestsPerSecond == 2)
        #expect(close(at.perRequest, 8.0 / 7200))
        #expect(close(at.perThousandRequests, 8.0 / 7200 * 1000))
        #expect(close(at.perMillionOutputTokens, 8.0 / 7200 / 150 * 1e6))   // $7.41
        #expect(close(at.perMillionTotalTokens, 8.0 / 7200 / 700 * 1e6))    // $1.59
        #expect(CostSummary.atSustainableRPS(2, pricing: Pricing(inputPerMTok: 1), meanOutputTokens: 150, meanInputTokens: 550) == nil)
        #expect(CostSummary.atSustainableRPS(0, pricing: pricing, meanOutputTokens: 150, meanInputTokens: 550) == nil)

        let summary = pricedSummary(pricing)
        let filled = CostSummary.compute(pricing, summary: summary).withSustainableRPS(2, summary: summary)
        #expect(filled.atSustainableRPS == at)
    }

    // MARK: Through the coordinator

    @Test(.timeLimit(.minutes(1)))
    func coordinatorEvaluatesTheSLOAndPricesTheRun() async throws {
        var failing = scenario(users: 2, maxRequests: 20)
        failing.slo = try SLO.parse("ttft_p50<=1ms,error_rate<=1%")
        failing.pricing = Pricing(inputPerMTok: 1, outputPerMTok: 1000)
        let coordinator = RunCoordinator(scenario: failing)
        await coordinator.add(LocalWorkerLink(executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000))
        let result = await coordinator.run()
        let slo = try #require(result.slo)
        #expect(!slo.passed)
        #expect(slo.failedClauses.map(\.expression) == ["ttft_p50<=1ms"])
        #expect(slo.goodput?.requests == 0)
        #expect(RunVerdict.exitCode(result, maxErrorRate: 0) == 1)
        // FakeExecutor: 1 output token per request, input tokens = the prompt's estimate.
        let cost = try #require(result.cost?.perToken)
        let expectedTotal = (Double(result.overall.inputTokensTotal) * 1 + 20 * 1000) / 1e6
        #expect(result.overall.outputTokensTotal == 20)
        #expect(cost.costPerRequest.count == 20)
        #expect(close(cost.totalUSD, expectedTotal))
        #expect(close(cost.perThousandRequests, expectedTotal / 20 * 1000))
        #expect(close(cost.costPerRequest.mean, expectedTotal / 20, 1e-3))

        let report = ConsoleReport.render(result)
        #expect(report.contains("SLO FAILED (1 of 2 clauses not met)"))
        #expect(report.contains("ttft_p50<=1ms"))
        #expect(report.contains("FAIL"))
        #expect(report.contains("goodput: 0 of 20"))
        #expect(report.contains("Cost (USD)"))
        #expect(report.contains("per 1,000 requests"))

        var passing = scenario(users: 2, maxRequests: 20)
        passing.slo = try SLO.parse("ttft_p99<=10s,e2e_max<10s")
        passing.pricing = Pricing(pricePerHour: 3.6)
        let second = RunCoordinator(scenario: passing)
        await second.add(LocalWorkerLink(executor: FakeExecutor(delay: .milliseconds(5)), intervalNs: 100_000_000))
        let ok = await second.run()
        #expect(ok.slo?.passed == true)
        #expect(ok.slo?.goodput?.requests == 20)
        #expect(ok.slo?.goodput?.share == 1)
        #expect(RunVerdict.exitCode(ok, maxErrorRate: 0) == 0)
        let dedicated = try #require(ok.cost?.dedicated)
        #expect(close(dedicated.totalUSD, 3.6 * ok.durationSeconds / 3600))
        #expect(close(dedicated.perRequest, dedicated.totalUSD / 20))
        #expect(ConsoleReport.render(ok).contains("SLO PASSED (2 of 2 clauses met)"))
    }
}
