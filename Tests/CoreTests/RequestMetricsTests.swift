import StampedeCore
import Testing

@Suite("RequestMetrics")
struct RequestMetricsTests {
    static let ms: Int64 = 1_000_000

    /// Scheduled at 1000 ms, sent 50 ms late, four token-bearing chunks, five output tokens (server count).
    static let streamed = RequestRecord(
        scheduledNs: 1000 * ms, sendNs: 1050 * ms, firstByteNs: 1100 * ms,
        firstTokenNs: 1200 * ms, firstAnswerTokenNs: 1400 * ms,
        tokenChunkNs: [1200 * ms, 1400 * ms, 1500 * ms, 2200 * ms], endNs: 2300 * ms,
        outputTokens: 5, tokenSource: .usage)

    static var failed: RequestRecord {
        var record = streamed
        record.errorClass = .streamError
        return record
    }

    @Test func knownAnswers() {
        let r = Self.streamed
        #expect(RequestMetrics.ttft(r) == 200 * Self.ms)
        #expect(RequestMetrics.ttfat(r) == 400 * Self.ms)
        #expect(RequestMetrics.e2e(r) == 1200 * Self.ms)  // last token chunk, not endNs
        #expect(RequestMetrics.itl(r) == 250 * Self.ms)  // (2200 - 1200) / (5 - 1)
        #expect(RequestMetrics.llmperfItl(r) == 240 * Self.ms)  // 1200 / 5
        #expect(RequestMetrics.chunkGaps(r) == [200 * Self.ms, 100 * Self.ms, 700 * Self.ms])
        #expect(RequestMetrics.scheduleLag(r) == 50 * Self.ms)
        let rate = RequestMetrics.outputTokensPerSecond(r)
        #expect(rate.map { abs($0 - 5 / 1.2) < 1e-9 } == true)
    }

    @Test func valueDispatchesEachMetric() {
        let r = Self.streamed
        #expect(RequestMetrics.value(.ttft, r) == 200 * Self.ms)
        #expect(RequestMetrics.value(.ttfat, r) == 400 * Self.ms)
        #expect(RequestMetrics.value(.e2e, r) == 1200 * Self.ms)
        #expect(RequestMetrics.value(.itl, r) == 250 * Self.ms)
        #expect(RequestMetrics.value(.llmperfItl, r) == 240 * Self.ms)
        #expect(RequestMetrics.value(.chunkGap, r) == 200 * Self.ms)
        #expect(RequestMetrics.value(.scheduleLag, r) == 50 * Self.ms)
    }

    @Test func failedRequestsHaveNoLatencies() {
        let r = Self.failed
        #expect(!r.succeeded)
        for metric in LatencyMetric.allCases where metric != .scheduleLag {
            #expect(RequestMetrics.value(metric, r) == nil, "\(metric)")
        }
        #expect(RequestMetrics.chunkGaps(r).isEmpty)
        #expect(RequestMetrics.outputTokensPerSecond(r) == nil)
        #expect(RequestMetrics.scheduleLag(r) == 50 * Self.ms)
    }

    @Test func singleTokenHasNoITL() {
        let r = RequestRecord(scheduledNs: 0, sendNs: 0, firstTokenNs: 300 * Self.ms, firstAnswerTokenNs: 300 * Self.ms,
                              tokenChunkNs: [300 * Self.ms], endNs: 310 * Self.ms, outputTokens: 1)
        #expect(RequestMetrics.itl(r) == nil)
        #expect(RequestMetrics.chunkGaps(r).isEmpty)
        #expect(RequestMetrics.llmperfItl(r) == 300 * Self.ms)
        #expect(RequestMetrics.e2e(r) == 300 * Self.ms)
    }

    @Test func noTokensUsesEndForE2EAndHasNoRates() {
        let r = RequestRecord(scheduledNs: 100 * Self.ms, sendNs: 100 * Self.ms, endNs: 400 * Self.ms, outputTokens: 0)
        #expect(RequestMetrics.ttft(r) == nil)
        #expect(RequestMetrics.ttfat(r) == nil)
        #expect(RequestMetrics.e2e(r) == 300 * Self.ms)
        #expect(RequestMetrics.itl(r) == nil)
        #expect(RequestMetrics.llmperfItl(r) == nil)
        #expect(RequestMetrics.outputTokensPerSecond(r) == nil)
    }

    @Test func closedLoopHasZeroScheduleLagAndNeverNegative() {
        var r = Self.streamed
        r.sendNs = r.scheduledNs
        #expect(RequestMetrics.scheduleLag(r) == 0)
        r.sendNs = r.scheduledNs - 5
        #expect(RequestMetrics.scheduleLag(r) == 0)
    }

    @Test func everyMetricHasATitleAndFormula() {
        #expect(LatencyMetric.allCases.map(\.rawValue) == ["ttft", "ttfat", "e2e", "itl", "llmperf_itl", "chunk_gap", "schedule_lag"])
        for metric in LatencyMetric.allCases {
            #expect(!metric.title.isEmpty)
            #expect(!metric.formula.isEmpty)
        }
    }
}

@Suite("Core enums")
struct CoreEnumTests {
    @Test func errorClassForStatus() {
        #expect(ErrorClass.forStatus(429) == .throttled)
        #expect(ErrorClass.forStatus(400) == .http4xx)
        #expect(ErrorClass.forStatus(404) == .http4xx)
        #expect(ErrorClass.forStatus(500) == .http5xx)
        #expect(ErrorClass.forStatus(503) == .http5xx)
    }

    @Test func dialectPaths() {
        #expect(APIDialect.chat.path == "/v1/chat/completions")
        #expect(APIDialect.completions.path == "/v1/completions")
        #expect(APIDialect.tgi.path == "/generate_stream")
    }
}
