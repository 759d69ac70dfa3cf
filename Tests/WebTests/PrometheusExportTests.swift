import StampedeCore
@testable import StampedeEngine
import StampedeMetrics
import StampedeWeb
import Testing

/// `/metrics`: merged snapshots become Prometheus histograms, counters and gauges; successive snapshots add
/// only what is new, so a scrape after the run equals the final results.
@Suite struct PrometheusExportTests {
    static func result(e2eMs: [UInt64], succeeded: Int, failed: Int, errors: [String: Int], outputTokens: Int) -> RunResult {
        var set = MetricSet()
        var e2e = MetricHistogram()
        for ms in e2eMs { e2e.record(ms * 1000) }
        set.histograms[.latency(.e2e)] = e2e
        set.counters.succeeded = succeeded
        set.counters.failed = failed
        set.counters.finished = succeeded + failed
        set.counters.errorsByClass = errors
        set.counters.outputTokens = outputTokens
        var result = RunResult(runId: "r", name: "n", startedAt: "2026-01-01T00:00:00Z", stopReason: .runTime, durationSeconds: 1,
                               scenario: Scenario(target: "http://127.0.0.1:1"), overall: StatsSummary(set, durationSeconds: 1),
                               stages: [], timeSeries: [], workers: [], formulas: [:])
        result.total = set
        return result
    }

    /// The value of one sample line (`name{labels} value`).
    static func sample(_ text: String, _ prefix: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    @Test func successiveSnapshotsAddOnlyWhatIsNew() {
        let export = PrometheusExport()
        export.update(Self.result(e2eMs: [50, 400], succeeded: 2, failed: 1, errors: ["http_5xx": 1], outputTokens: 30),
                      status: LiveStatus(elapsedSeconds: 1, users: 3, requestsPerSecond: 3, ttftP50Seconds: nil, outputTokensPerSecond: 30,
                                         finished: 3, errors: 1, workers: 2), inFlight: 2)
        export.update(Self.result(e2eMs: [50, 400, 400, 2500], succeeded: 4, failed: 1, errors: ["http_5xx": 1], outputTokens: 70),
                      status: nil, inFlight: 0)
        let text = export.text()
        #expect(Self.sample(text, "stampede_e2e_seconds_count") == 4, "\(text)")
        #expect(Self.sample(text, "stampede_e2e_seconds_bucket{le=\"0.1\"}") == 1)
        #expect(Self.sample(text, "stampede_e2e_seconds_bucket{le=\"0.5\"}") == 3)
        #expect(Self.sample(text, "stampede_e2e_seconds_bucket{le=\"2.0\"}") == 3 || Self.sample(text, "stampede_e2e_seconds_bucket{le=\"2\"}") == 3,
                "\(text)")
        #expect(Self.sample(text, "stampede_e2e_seconds_bucket{le=\"+Inf\"}") == 4)
        let sum = Self.sample(text, "stampede_e2e_seconds_sum") ?? 0
        #expect(abs(sum - 3.35) < 0.01, "sum \(sum): HDR buckets hold values to 0.1%")
        #expect(Self.sample(text, "stampede_requests_total{outcome=\"succeeded\"}") == 4)
        #expect(Self.sample(text, "stampede_requests_total{outcome=\"failed\"}") == 1)
        #expect(Self.sample(text, "stampede_request_errors_total{error_class=\"http_5xx\"}") == 1)
        #expect(Self.sample(text, "stampede_output_tokens_total") == 70)
        #expect(Self.sample(text, "stampede_users") == 3)
        #expect(Self.sample(text, "stampede_in_flight") == 0)
        #expect(text.contains("# TYPE stampede_ttft_seconds histogram"))
    }

    @Test func differenceIsPerBucketAndNeverNegative() {
        let before: [UInt64: UInt64] = [10: 2, 20: 5]
        let now: [UInt64: UInt64] = [10: 2, 20: 7, 30: 1, 5: 0]
        #expect(HistogramDelta.difference(from: before, to: now).map { [$0.value, $0.count] } == [[20, 2], [30, 1]])
        #expect(HistogramDelta.difference(from: now, to: before).isEmpty)
    }

    @Test func bucketsAreFixedAndAscending() {
        for metric in PrometheusExport.latencyMetrics {
            let buckets = PrometheusExport.latencyBuckets[metric] ?? []
            #expect(!buckets.isEmpty && buckets == buckets.sorted() && Set(buckets).count == buckets.count)
        }
    }
}
