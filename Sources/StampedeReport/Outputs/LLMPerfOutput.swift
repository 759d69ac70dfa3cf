import StampedeCore
import StampedeEngine

/// `--llmperf-dir DIR`: LLMPerf's files (`LLMPerfExport`). The per-request file lists the records as
/// they arrived; the summaries read the merged results.
struct LLMPerfOutput: RunOutput {
    let directory: String

    var delivery: RunEventHub.Delivery { .every }

    func consume(_ events: AsyncStream<RunEvent>) async throws -> [String] {
        var records: [RequestRecord] = []
        for await event in events {
            switch event {
            case .records(let batch): records += batch
            case .finished(let result): return try LLMPerfExport.write(result, records: records, to: directory)
            default: continue
            }
        }
        return []
    }
}
