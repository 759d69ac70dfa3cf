import Foundation
import StampedeCore
import StampedeMetrics
import Testing

/// `HistogramKey`'s latency keys are the `LatencyMetric`s (issue 10): no second list of names, no
/// lookups by raw string, and the names on the wire and in JSON reports are what they were.
@Suite("HistogramKey is built from LatencyMetric")
struct HistogramKeyTests {
    /// The names as they were before the keys were derived: wire keys and report keys must not change.
    static let names = ["ttft", "ttfat", "e2e", "itl", "llmperf_itl", "chunk_gap", "schedule_lag",
                        "input_tokens", "output_tokens", "total_tokens", "output_tps", "cost_per_request"]

    @Test func namesAreUnchanged() {
        #expect(HistogramKey.allCases.map(\.rawValue) == Self.names)
        #expect(Set(HistogramKey.allCases).count == Self.names.count)
    }

    @Test func everyLatencyMetricHasItsKey() {
        for metric in LatencyMetric.allCases {
            let key = HistogramKey.latency(metric)
            #expect(HistogramKey.allCases.contains(key))
            #expect(key.rawValue == metric.rawValue)
            #expect(key.latency == metric)
            #expect(key.toDisplayUnit == 1e-6)
        }
        #expect(HistogramKey.inputTokens.latency == nil)
        #expect(HistogramKey.allCases.filter { $0.latency != nil }.count == LatencyMetric.allCases.count)
    }

    @Test func rawValuesRoundTrip() {
        for key in HistogramKey.allCases { #expect(HistogramKey(rawValue: key.rawValue) == key) }
        #expect(HistogramKey(rawValue: "TTFT") == nil)
        #expect(HistogramKey(rawValue: "latency") == nil)
        #expect(HistogramKey(rawValue: "") == nil)
    }

    @Test func wireAndSummaryKeysAreTheMetricNames() throws {
        var set = MetricSet()
        let chunks: [Int64] = [20_000_000, 30_000_000, 40_000_000]
        set.record(RequestRecord(scheduledNs: 0, sendNs: 1_000_000, firstByteNs: 10_000_000, firstTokenNs: 20_000_000,
                                 firstAnswerTokenNs: 20_000_000, tokenChunkNs: chunks, endNs: 41_000_000,
                                 inputTokens: 10, outputTokens: 3, status: 200))
        #expect(set[.e2e].count == 1)
        #expect(set[.latency(.e2e)] == set[.e2e])
        let wire = try JSONSerialization.jsonObject(with: JSONEncoder().encode(set.wire)) as? [String: Any]
        let histograms = try #require(wire?["histograms"] as? [String: Any])
        #expect(Set(histograms.keys) == ["ttft", "ttfat", "e2e", "itl", "llmperf_itl", "chunk_gap", "schedule_lag",
                                         "input_tokens", "output_tokens", "total_tokens", "output_tps"])
        #expect(try MetricSet(wire: set.wire) == set)
        let summary = StatsSummary(set, durationSeconds: 1)
        #expect(Set(summary.latency.keys) == Set(LatencyMetric.allCases.map(\.rawValue)))
        #expect(abs(summary[.e2e].p50 - 0.040) < 0.0001)
    }
}
