import Foundation
import StampedeCore
import StampedeMetrics
import Testing

func makeRecord(ttftMs: Int64, itlMs: Int64, tokens: Int, sendMs: Int64 = 0, error: ErrorClass? = nil, stage: Int = 0) -> RequestRecord {
    let send = sendMs * 1_000_000
    let first = send + ttftMs * 1_000_000
    let chunks = (0..<tokens).map { first + Int64($0) * itlMs * 1_000_000 }
    return RequestRecord(stage: stage, scheduledNs: send, sendNs: send, firstByteNs: first, firstTokenNs: error == nil ? first : nil,
                         firstAnswerTokenNs: error == nil ? first : nil, tokenChunkNs: error == nil ? chunks : [],
                         endNs: (chunks.last ?? first) + 1_000_000, inputTokensEstimate: 100, inputTokens: 110,
                         outputTokens: error == nil ? tokens : 0, tokenSource: .usage, requestedOutputTokens: tokens,
                         status: error == nil ? 200 : 500, errorClass: error, errorMessage: error == nil ? nil : "boom")
}

@Suite("Aggregating worker deltas")
struct AggregatorTests {
    func delta(_ worker: String, seq: UInt64, interval: Int, records: [RequestRecord]) -> IntervalDelta {
        var set = MetricSet()
        records.forEach { set.record($0) }
        return IntervalDelta(worker: worker, seq: seq, interval: interval, startNs: Int64(interval) * 1_000_000_000,
                             endNs: Int64(interval + 1) * 1_000_000_000, users: 2, inFlight: 1, stages: [0: set])
    }

    @Test func duplicatesAreNotCountedTwice() {
        var agg = MetricsAggregator()
        let d = delta("w1", seq: 0, interval: 0, records: [makeRecord(ttftMs: 100, itlMs: 10, tokens: 5)])
        #expect(agg.apply(d) == .applied)
        #expect(agg.apply(d) == .duplicate)
        #expect(agg.total.counters.finished == 1)
        #expect(agg.workers["w1"]?.counters.finished == 1)
    }

    @Test func totalsAreTheSumOverWorkersAndIntervals() {
        var agg = MetricsAggregator()
        agg.apply(delta("w1", seq: 0, interval: 0, records: [makeRecord(ttftMs: 100, itlMs: 10, tokens: 5)]))
        agg.apply(delta("w2", seq: 0, interval: 0, records: [makeRecord(ttftMs: 200, itlMs: 10, tokens: 7),
                                                               makeRecord(ttftMs: 1, itlMs: 1, tokens: 1, error: .http5xx)]))
        agg.apply(delta("w1", seq: 1, interval: 1, records: [makeRecord(ttftMs: 300, itlMs: 10, tokens: 9)]))
        #expect(agg.total.counters.finished == 4)
        #expect(agg.total.counters.failed == 1)
        #expect(agg.total.counters.outputTokens == 21)
        #expect(agg.total[.ttft].count == 3)
        agg.closeAll()
        let series = agg.series
        #expect(series.count == 2)
        #expect(series[0].finished == 3)
        #expect(series[0].users == 4)
        #expect(series[1].finished == 1)
        #expect(series[0].latency["ttft_p50"] != nil)
    }

    @Test func lateDeltaAfterCloseStillCountsInTotals() {
        var agg = MetricsAggregator()
        agg.apply(delta("w1", seq: 0, interval: 0, records: [makeRecord(ttftMs: 100, itlMs: 10, tokens: 5)]))
        agg.close(intervalsBefore: 1)
        agg.apply(delta("w2", seq: 0, interval: 0, records: [makeRecord(ttftMs: 100, itlMs: 10, tokens: 5)]))
        #expect(agg.total.counters.finished == 2)
        #expect(agg.series[0].finished == 2)
    }

    @Test func deltaSurvivesJSONRoundTrip() throws {
        let d = delta("w1", seq: 3, interval: 2, records: [makeRecord(ttftMs: 120, itlMs: 15, tokens: 20),
                                                           makeRecord(ttftMs: 1, itlMs: 1, tokens: 1, error: .throttled)])
        let decoded = try JSONDecoder().decode(IntervalDelta.self, from: JSONEncoder().encode(d))
        #expect(decoded == d)
    }

    @Test func malformedDeltaIsRejected() throws {
        let bad = #"{"worker":"w","seq":0,"interval":0,"start_ns":0,"end_ns":1,"users":1,"in_flight":0,"stages":[{"stage":0,"metrics":{"counters":{"finished":1,"succeeded":0,"failed":0,"errorsByClass":{},"statusCodes":{},"inputTokens":0,"inputTokensEstimate":0,"outputTokens":0,"tokenChunks":0,"tokenSources":{},"correctnessChecked":0,"correctnessPassed":0,"busyNanoseconds":0,"lastErrorMessages":{}},"histograms":{}}}]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(IntervalDelta.self, from: Data(bad.utf8)) }
    }
}

@Suite("Summary formulas on hand-built records")
struct SummaryFormulaTests {
    @Test func throughputAndLatencyFormulas() {
        var set = MetricSet()
        // Two requests: TTFT 100 ms and 300 ms; 11 tokens 20 ms apart → ITL 20 ms; E2E = TTFT + 200 ms.
        set.record(makeRecord(ttftMs: 100, itlMs: 20, tokens: 11))
        set.record(makeRecord(ttftMs: 300, itlMs: 20, tokens: 11))
        set.record(makeRecord(ttftMs: 1, itlMs: 1, tokens: 1, error: .throttled))
        let s = StatsSummary(set, durationSeconds: 2)
        #expect(s.requestsFinished == 3)
        #expect(s.requestsSucceeded == 2)
        #expect(abs(s.errorRate - 1.0 / 3) < 1e-12)
        #expect(s.throttled == 1)
        #expect(s.requestsPerSecond == 1.5)
        #expect(s.completedRequestsPerMinute == 60)
        #expect(s.outputTokensPerSecond == 11)           // 22 tokens / 2 s
        #expect(s.inputTokensPerSecond == 110)           // 220 / 2
        #expect(abs(s[.ttft].min - 0.100) < 0.0002)
        #expect(abs(s[.ttft].max - 0.300) < 0.0004)
        #expect(abs(s[.itl].p50 - 0.020) < 0.00003)
        #expect(abs(s[.e2e].min - 0.300) < 0.0004)       // 100 + 10×20
        #expect(abs(s[.llmperfItl].min - 0.300 / 11) < 0.0001)
        #expect(s[.chunkGap].count == 20)
        #expect(abs(s.outputTokensPerSecondPerRequest.max - 11 / 0.3) < 0.05)
    }
}
