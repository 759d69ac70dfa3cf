import StampedeCore
import StampedeMetrics
#if DEBUG
// LLMPerfExport's summary builder is internal; debug builds (the fuzz build is one) enable testability.
@testable import StampedeReport
#else
import StampedeReport
#endif

/// What `--llmperf-dir` computes: the summary from the merged set (which the caller built from the
/// records) and the individual responses from the records, without writing files.
enum LLMPerfFuzz {
    static let scenario = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 10)

    ///
    /// The summary reads every histogram's percentiles once per percentile (each a dense walk), which
    /// halved the executions per second; it is built only when a succeeded record is there to add to
    /// total-tokens histogram (the part no other step covers).
    static func export(_ total: MetricSet, overall: StatsSummary, records: [RequestRecord]) {
        let records = records.filter { !KnownIssues.skipLLMPerf($0) }
        #if DEBUG
        if records.contains(where: \.succeeded) {
            _ = LLMPerfExport.summary(scenario: scenario, name: "fuzz", total: total, overall: overall, durationSeconds: 10)
        }
        #endif
        _ = LLMPerfExport.individualResponses(records)
    }
}
