import Foundation
import StampedeCore
@testable import StampedeEngine
import StampedeMetrics
@testable import StampedeReport
import Testing

@Suite("Run outputs")
struct RunOutputTests {
    static func status(_ seconds: Double) -> LiveStatus {
        LiveStatus(elapsedSeconds: seconds, users: 12, requestsPerSecond: 3.5, ttftP50Seconds: 0.25, outputTokensPerSecond: 420,
                   finished: 1234, errors: 5, workers: 3)
    }

    @Test("on a terminal the live line redraws in place and never wraps; elsewhere a line every 10 s")
    func liveLine() {
        var tty = LiveLinePacer(mode: .tty, every: 10)
        let full = LiveLine.render(Self.status(1))
        #expect(tty.text(for: Self.status(1), width: 200) == "\r\u{1B}[2K" + full)
        let narrow = tty.text(for: Self.status(2), width: 40)
        #expect(narrow?.hasPrefix("\r\u{1B}[2K") == true)
        let drawn = narrow.map { String($0.dropFirst(5)) } ?? ""
        #expect(drawn.count == 39, "cut to the width less the last column: \(drawn)")
        #expect(drawn.hasSuffix("…"))
        #expect(!drawn.contains("\n"))
        #expect(tty.clear() == "\r\u{1B}[2K")
        #expect(tty.clear() == nil, "cleared once")

        var lines = LiveLinePacer(mode: .lines, every: 10)
        let printed = (1...25).compactMap { lines.text(for: Self.status(Double($0)), width: 30) }
        #expect(printed.count == 3, "at 1 s, 11 s and 21 s")
        #expect(printed.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\u{1B}") && !$0.contains("…") })
        #expect(lines.clear() == nil)

        var off = LiveLinePacer(mode: .off, every: 10)
        #expect(off.text(for: Self.status(1), width: 80) == nil)
    }

    static func record(_ i: Int, input: Int, output: Int, failed: ErrorClass? = nil, status: Int? = 200) -> RequestRecord {
        let start = Int64(i) * 1_000_000
        return RequestRecord(scheduledNs: start, sendNs: start, firstTokenNs: start + 50_000_000,
                             tokenChunkNs: (0..<output).map { start + 50_000_000 + Int64($0) * 1_000_000 },
                             endNs: start + 60_000_000 + Int64(output) * 1_000_000, inputTokens: input, outputTokens: output,
                             status: status, errorClass: failed)
    }

    @Test("LLMPerf summaries come from the merged results: total tokens and error codes without the records")
    func llmperfFromMergedResults() throws {
        var set = MetricSet()
        let records = (0..<40).map { Self.record($0, input: 100 + $0, output: 20 + $0 % 7) }
            + [Self.record(40, input: 1, output: 0, failed: .http5xx, status: 503),
               Self.record(41, input: 1, output: 0, failed: .timeout, status: nil),
               Self.record(42, input: 1, output: 0, failed: .streamError, status: 200)]
        for record in records { set.record(record) }
        var result = RunResult(runId: "r", name: "n", startedAt: "", stopReason: .runTime, durationSeconds: 10, scenario: scenario(users: 4),
                               overall: StatsSummary(set, durationSeconds: 10), stages: [], timeSeries: [], workers: [], formulas: [:])
        result.total = set
        let flat = LLMPerfExport.summary(result)
        var expected = MetricHistogram()
        for record in records where record.succeeded { expected.record(UInt64(record.inputTokens + record.outputTokens)) }
        #expect(flat["results_number_total_tokens_quantiles_p50"]?.doubleValue == Double(expected.value(atPercentile: 50)))
        #expect(flat["results_number_total_tokens_max"]?.doubleValue == Double(expected.max))
        #expect(flat["results_number_total_tokens_min"]?.doubleValue == Double(expected.min))
        #expect(flat["results_error_code_frequency"]?.stringValue == "{503: 1, 'stream_error': 1, 'timeout': 1}")
        #expect(flat["results_number_errors"]?.doubleValue == 3)
        let individual = LLMPerfExport.individualResponses(Array(records.suffix(3)))
        let codes = individual.map { $0.objectValue?["error_code"] }
        #expect(codes == [.number(503), .string("timeout"), .string("stream_error")])
    }

    @Test("the JSON results carry their schema version")
    func schemaVersion() throws {
        let result = RunResult(runId: "r", name: "n", startedAt: "", stopReason: .runTime, durationSeconds: 1, scenario: scenario(users: 1),
                               overall: StatsSummary(MetricSet(), durationSeconds: 1), stages: [], timeSeries: [], workers: [], formulas: [:])
        let json = try #require(try JSONSerialization.jsonObject(with: JSONReport.encode(result)) as? [String: Any])
        #expect(json["schema_version"] as? Int == RunResult.currentSchemaVersion)
        #expect(RunResult.currentSchemaVersion == 2)
    }

    @Test("every output runs off the coordinator and the paths come back in order; a failing one fails the finish")
    func outputsSubscribe() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-outputs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = OutputSettings(jsonPath: dir.appendingPathComponent("r.json").path,
                                      requestsJSONLPath: dir.appendingPathComponent("r.jsonl").path)
        settings.live = .off
        let outputs = try RunOutputs(settings: settings)
        let result = RunResult(runId: "r", name: "n", startedAt: "", stopReason: .runTime, durationSeconds: 1, scenario: scenario(users: 1),
                               overall: StatsSummary(MetricSet(), durationSeconds: 1), stages: [], timeSeries: [], workers: [], formulas: [:])
        outputs.publish(.records([Self.record(0, input: 1, output: 1), Self.record(1, input: 1, output: 1)]))
        outputs.publish(.records([Self.record(2, input: 1, output: 1)]))
        outputs.publish(.finished(result))
        let written = try await outputs.finish()
        #expect(written == [settings.requestsJSONLPath!, settings.jsonPath!])
        let lines = try String(contentsOfFile: settings.requestsJSONLPath!, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)

        // A directory where the JSON file should go: the error surfaces from finish.
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("taken.json").path, withIntermediateDirectories: true)
        var bad = OutputSettings(jsonPath: dir.appendingPathComponent("taken.json").path)
        bad.live = .off
        let failing = try RunOutputs(settings: bad)
        failing.publish(.finished(result))
        await #expect(throws: ReportWriteError.self) { try await failing.finish() }
    }
}
