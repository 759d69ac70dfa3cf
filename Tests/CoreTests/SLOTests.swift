import Foundation
import StampedeCore
import Testing

/// A succeeded request: TTFT `ttftMs`, then `tokens` token chunks `itlMs` apart, sent at 0.
private func request(ttftMs: Int64, itlMs: Int64 = 10, tokens: Int = 10, failed: Bool = false) -> RequestRecord {
    let first = ttftMs * 1_000_000
    let chunks = (0..<tokens).map { first + Int64($0) * itlMs * 1_000_000 }
    return RequestRecord(scheduledNs: 0, sendNs: 0, firstByteNs: first, firstTokenNs: tokens > 0 ? first : nil,
                         firstAnswerTokenNs: tokens > 0 ? first : nil, tokenChunkNs: chunks, endNs: (chunks.last ?? first) + 1_000_000,
                         inputTokens: 100, outputTokens: tokens, status: failed ? 500 : 200, errorClass: failed ? .http5xx : nil)
}

@Suite("SLO expressions")
struct SLOTests {
    @Test func parsesTheIssueExample() throws {
        let slo = try SLO.parse("ttft_p90<=2s,itl_p95<=80ms,e2e_p99<=30s,error_rate<=1%")
        #expect(slo.clauses.count == 4)
        #expect(slo.clauses.map(\.metric) == [.latency(.ttft, .p90), .latency(.itl, .p95), .latency(.e2e, .p99), .errorRate])
        #expect(slo.clauses.map(\.op) == [.lessOrEqual, .lessOrEqual, .lessOrEqual, .lessOrEqual])
        #expect(slo.clauses.map(\.threshold) == [2, 0.08, 30, 0.01])
        #expect(slo.clauses.map(\.text) == ["ttft_p90<=2s", "itl_p95<=80ms", "e2e_p99<=30s", "error_rate<=1%"])
        #expect(slo.clauses.map(\.metric.name) == ["ttft_p90", "itl_p95", "e2e_p99", "error_rate"])
        #expect(slo.perRequestClauses.count == 3)
        #expect(slo.definesGoodput)
    }

    static let everyLatencyName: [String] = LatencyMetric.allCases.flatMap { metric in
        SLOStat.allCases.map { "\(metric.rawValue)_\($0.rawValue)" }
    }

    @Test("every latency key with every statistic parses", arguments: everyLatencyName)
    func everyLatencyMetric(_ name: String) throws {
        let slo = try SLO.parse("\(name)<=1s")
        guard case .latency(let metric, let stat) = slo.clauses[0].metric else {
            Issue.record("not a latency clause")
            return
        }
        #expect("\(metric.rawValue)_\(stat.rawValue)" == name)
        #expect(slo.clauses[0].metric.name == name)
    }

    static let units: [(String, Double)] = [
        ("250us", 250e-6), ("250µs", 250e-6), ("80ms", 0.08), ("1.5s", 1.5), ("2m", 120), ("2min", 120), ("500ns", 500e-9), ("0s", 0),
        ("1h", 3600), ("1h30m", 5400), ("0.5h", 1800),
    ]

    @Test("latency units", arguments: units)
    func latencyUnits(_ text: String, _ seconds: Double) throws {
        let clause = try SLO.parse("e2e_p99<=\(text)").clauses[0]
        #expect(abs(clause.threshold - seconds) <= seconds * 1e-12)
    }

    @Test func ratesAndThroughputs() throws {
        let slo = try SLO.parse(" ttft_p50 < 1s , error_rate<=0.5%, throttled_rate<0.02, goodput_rate>=90%, requests_per_s>=2.5,"
            + "output_tokens_per_s>=500, input_tokens_per_s>1000, goodput_per_s>=1,")
        #expect(slo.clauses.map(\.metric) == [.latency(.ttft, .p50), .errorRate, .throttledRate, .goodputRate, .requestsPerSecond,
                                              .outputTokensPerSecond, .inputTokensPerSecond, .goodputPerSecond])
        #expect(slo.clauses.map(\.op) == [.less, .lessOrEqual, .less, .greaterOrEqual, .greaterOrEqual, .greaterOrEqual, .greater,
                                          .greaterOrEqual])
        #expect(slo.clauses.map(\.threshold) == [1, 0.005, 0.02, 0.9, 2.5, 500, 1000, 1])
        #expect(slo.clauses[0].text == "ttft_p50 < 1s")
    }

    static let malformed: [(String, String)] = [
        ("ttft_p91<=2s", "ttft_p91"),            // unknown quantile
        ("ttfb_p90<=2s", "ttfb_p90"),            // unknown metric
        ("ttft_p90<=2", "ttft_p90<=2"),          // latency without a unit
        ("ttft_p90<=2d", "unknown unit 'd'"),     // days are not a unit
        ("ttft_p90<=-2s", "ttft_p90<=-2s"),
        ("ttft_p90<=fast", "ttft_p90<=fast"),
        ("ttft_p90", "ttft_p90"),                // no comparison
        ("ttft_p90=2s", "ttft_p90=2s"),
        ("ttft_p90==2s", "ttft_p90==2s"),
        ("ttft_p90>=2s", "upper bound"),         // wrong direction
        ("requests_per_s<=5", "lower bound"),
        ("ttft_p90<=", "missing value"),
        ("<=2s", "missing metric"),
        ("ttft_p90<=2s<=3s", "more than one"),
        ("error_rate<=5", "error_rate<=5"),      // a rate above 1 without %
        ("error_rate<=150%", "error_rate<=150%"),
        ("error_rate<=-1%", "error_rate<=-1%"),
        ("output_tokens_per_s>=-1", "output_tokens_per_s>=-1"),
        ("output_tokens_per_s>=lots", "output_tokens_per_s>=lots"),
        ("", "empty"),
        ("ttft_p90<=2s,,e2e_p99<=3s", "empty clause"),
        ("goodput_rate>=90%", "latency clause"), // goodput needs a per-request bound
        ("error_rate<=1%,itl_p95<=80", "itl_p95<=80"),
    ]

    @Test("a malformed expression is rejected, naming --slo and the clause", arguments: malformed)
    func malformedIsRejected(_ expression: String, _ mention: String) {
        let slo = SLO(expression: expression)
        #expect(slo.clauses.isEmpty)
        do {
            try slo.validate()
            Issue.record("'\(expression)' was accepted")
        } catch {
            #expect(error.flag == "--slo")
            #expect(error.message.contains(mention), "\(error.message)")
            #expect(error.description.hasPrefix("--slo: "))
        }
        #expect(throws: ScenarioError.self) { try SLO.parse(expression) }
    }

    @Test func scenarioValidationRejectsABadSLO() {
        var scenario = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 10)
        scenario.slo = SLO(expression: "ttft_p91<=2s")
        #expect(throws: ScenarioError(flag: "--slo", message: SLO(expression: "ttft_p91<=2s").problem!.message)) { try scenario.validate() }
        scenario.slo = SLO(expression: "ttft_p90<=2s")
        #expect(throws: Never.self) { try scenario.validate() }
    }

    @Test func codableKeepsTheExpressionAndReparses() throws {
        let slo = try SLO.parse("ttft_p90<=2s,error_rate<=1%")
        let data = try JSONEncoder().encode(slo)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?.keys.sorted() == ["expression"])
        let decoded = try JSONDecoder().decode(SLO.self, from: data)
        #expect(decoded == slo)
        #expect(decoded.clauses.count == 2)
        // A bad expression decodes (so the receiver can answer with a clear error) and fails validation.
        let bad = try JSONDecoder().decode(SLO.self, from: Data(#"{"expression":"ttft_p91<=2s"}"#.utf8))
        #expect(throws: ScenarioError.self) { try bad.validate() }
    }

    @Test func settingTheExpressionReparses() throws {
        var slo = try SLO.parse("ttft_p90<=2s")
        slo.expression = "e2e_p99<=30s,error_rate<=1%"
        #expect(slo.clauses.map(\.metric) == [.latency(.e2e, .p99), .errorRate])
        slo.expression = "nonsense"
        #expect(slo.clauses.isEmpty)
        #expect(throws: ScenarioError.self) { try slo.validate() }
    }

    // MARK: Per-request bounds (goodput)

    @Test func eachLatencyClauseBoundsTheRequestsOwnValue() throws {
        let slo = try SLO.parse("ttft_p90<=200ms,itl_p95<=20ms,error_rate<=1%")
        #expect(slo.isMet(by: request(ttftMs: 150, itlMs: 10)) == true)
        #expect(slo.isMet(by: request(ttftMs: 200, itlMs: 20)) == true)       // <= is inclusive
        #expect(slo.isMet(by: request(ttftMs: 250, itlMs: 10)) == false)      // TTFT over
        #expect(slo.isMet(by: request(ttftMs: 150, itlMs: 30)) == false)      // ITL over
        #expect(slo.isMet(by: request(ttftMs: 150, failed: true)) == false)   // a failed request is never good
        let strict = try SLO.parse("ttft_max<200ms")
        #expect(strict.isMet(by: request(ttftMs: 200)) == false)
        #expect(strict.isMet(by: request(ttftMs: 199)) == true)
    }

    @Test func aggregateOnlySLOHasNoPerRequestBound() throws {
        let slo = try SLO.parse("error_rate<=1%,output_tokens_per_s>=100")
        #expect(slo.isMet(by: request(ttftMs: 10)) == nil)
        #expect(!slo.definesGoodput)
    }

    @Test func metricsThatDoNotApplyToARequest() throws {
        // ITL needs >= 2 tokens: a 1-token request is not bounded by it.
        #expect(try SLO.parse("itl_p99<=1ms").isMet(by: request(ttftMs: 100, tokens: 1)) == true)
        // A request that produced no token has no TTFT and is not good under a TTFT bound.
        #expect(try SLO.parse("ttft_p99<=10s").isMet(by: request(ttftMs: 100, tokens: 0)) == false)
        // E2E uses the end time when there is no token chunk: 100 ms + 1 ms.
        #expect(try SLO.parse("e2e_p50<=101ms").isMet(by: request(ttftMs: 100, tokens: 0)) == true)
        #expect(try SLO.parse("e2e_p50<=100ms").isMet(by: request(ttftMs: 100, tokens: 0)) == false)
    }

    @Test func chunkGapBoundsEveryGapOfTheRequest() throws {
        var r = request(ttftMs: 100, itlMs: 10, tokens: 5)
        r.tokenChunkNs[4] += 50_000_000                // last gap 60 ms, the others 10 ms
        #expect(try SLO.parse("chunk_gap_p99<=50ms").isMet(by: r) == false)
        #expect(try SLO.parse("chunk_gap_p99<=60ms").isMet(by: r) == true)
    }

    @Test func scheduleLagIsPerRequest() throws {
        var r = request(ttftMs: 100)
        r.sendNs = 30_000_000
        #expect(try SLO.parse("schedule_lag_max<=20ms").isMet(by: r) == false)
        #expect(try SLO.parse("schedule_lag_max<=30ms").isMet(by: r) == true)
    }
}
