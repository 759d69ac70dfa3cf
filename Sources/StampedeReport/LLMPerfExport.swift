import Foundation
import StampedeCore
import StampedeEngine
import StampedeMetrics

/// `--llmperf-dir DIR`: LLMPerf's file pair, `<name>_summary.json` and `<name>_individual_responses.json`,
/// with LLMPerf's flat key names (`results_ttft_s_quantiles_p50`, …), so existing LLMPerf tooling reads them.
///
/// Mapping: `inter_token_latency_s` is Stampede's `llmperf_itl` (E2E / output tokens, as LLMPerf computes it);
/// `ttft_s` is TTFT; `end_to_end_latency_s` is E2E. Every summary figure comes from the merged results
/// (the HDR histograms and counters); the records only make up the per-request file.
public enum LLMPerfExport {
    /// LLMPerf's file stem: `<model>_<mean input>_<mean output>` with every run of non-word characters as "-".
    public static func baseName(for scenario: Scenario) -> String {
        let raw = "\(scenario.model)_\(scenario.input.mean)_\(scenario.output.mean)"
        var out = ""
        var lastDash = false
        for ch in raw {
            if ch.isLetter || ch.isNumber || ch == "_" || ch == "-" {
                out.append(ch)
                lastDash = false
            } else if !lastDash {
                out.append("-")
                lastDash = true
            }
        }
        return out
    }

    /// The run's summary, from the merged results (never from raw records).
    public static func summary(_ result: RunResult) -> [String: JSONValue] {
        summary(scenario: result.scenario, name: result.name, total: result.total, overall: result.overall,
                durationSeconds: result.durationSeconds)
    }

    /// The summary of one stage, from its merged histograms (a request belongs to the stage it was scheduled in).
    static func summary(_ result: RunResult, stage: StageResult) -> [String: JSONValue] {
        var flat = summary(scenario: result.scenario, name: "\(result.name) stage \(stage.index)", total: stage.total,
                           overall: stage.summary, durationSeconds: stage.summary.durationSeconds)
        flat["stampede_stage"] = .number(Double(stage.index))
        flat["stampede_stage_label"] = .string(stage.label)
        if let users = stage.users { flat["num_concurrent_requests"] = .number(Double(users)) }
        return flat
    }

    static func summary(scenario s: Scenario, name: String, total: MetricSet, overall o: StatsSummary, durationSeconds: Double) -> [String: JSONValue] {
        var flat: [String: JSONValue] = [
            "model": .string(s.model),
            "name": .string(name),
            "mean_input_tokens": .number(Double(s.input.mean)),
            "stddev_input_tokens": .number(Double(s.input.stddev)),
            "mean_output_tokens": .number(Double(s.output.mean)),
            "stddev_output_tokens": .number(Double(s.output.stddev)),
            "num_concurrent_requests": .number(Double(s.users)),
            "additional_sampling_params": s.extraBody ?? .object([:]),
        ]
        func add(_ name: String, _ histogram: MetricHistogram, scale: Double) {
            guard !histogram.isEmpty else { return }
            for p in [25.0, 50, 75, 90, 95, 99] {
                flat["results_\(name)_quantiles_p\(Int(p))"] = .number(Double(histogram.value(atPercentile: p)) * scale)
            }
            flat["results_\(name)_mean"] = .number(histogram.mean * scale)
            flat["results_\(name)_min"] = .number(Double(histogram.min) * scale)
            flat["results_\(name)_max"] = .number(Double(histogram.max) * scale)
            flat["results_\(name)_stddev"] = .number(histogram.stddev * scale)
        }
        add("inter_token_latency_s", total[.llmperfItl], scale: 1e-6)
        add("ttft_s", total[.ttft], scale: 1e-6)
        add("end_to_end_latency_s", total[.e2e], scale: 1e-6)
        add("request_output_throughput_token_per_s", total[.outputTokensPerSecond], scale: 1e-3)
        add("number_input_tokens", total[.inputTokens], scale: 1)
        add("number_output_tokens", total[.outputTokens], scale: 1)
        add("number_total_tokens", total[.totalTokens], scale: 1)

        // LLMPerf's error codes: the HTTP status of a refused request, else what went wrong (its class).
        var codes: [String: JSONValue] = [:]
        for (code, count) in o.statusCodes where Int(code).map({ !(200..<300).contains($0) }) ?? false {
            codes[code] = .number(Double(count))
        }
        for (name, count) in o.errorsByClass where count > 0 {
            guard let errorClass = ErrorClass(rawValue: name), !errorClass.isHTTPStatus else { continue }
            codes[name] = .number(Double(count))
        }
        flat["results_num_requests_started"] = .number(Double(o.requestsFinished))
        flat["results_error_rate"] = .number(o.errorRate)
        flat["results_number_errors"] = .number(Double(o.requestsFailed))
        // LLMPerf writes str(dict(Counter(error_codes))): a Python dict literal in a string.
        let frequency = codes.sorted { $0.key < $1.key }.map { code, count in
            let key = Int(code) != nil ? code : "'\(code)'"
            return "\(key): \(Int(count.doubleValue ?? 0))"
        }
        flat["results_error_code_frequency"] = .string("{" + frequency.joined(separator: ", ") + "}")
        flat["results_mean_output_throughput_token_per_s"] = .number(o.outputTokensPerSecond)
        flat["results_num_completed_requests"] = .number(Double(o.requestsSucceeded))
        flat["results_num_completed_requests_per_min"] = .number(o.completedRequestsPerMinute)
        flat["results_stampede_duration_s"] = .number(durationSeconds)
        return flat
    }

    public static func individualResponses(_ records: [RequestRecord]) -> [JSONValue] {
        records.map { r in
            let e2e = RequestMetrics.e2e(r).map { Double($0) / 1e9 }
            let entry: [String: JSONValue] = [
                "error_code": r.errorClass.map { errorClass in
                    errorClass.isHTTPStatus ? r.status.map { .number(Double($0)) } ?? .string(errorClass.rawValue) : .string(errorClass.rawValue)
                } ?? .null,
                "error_msg": .string(r.errorMessage ?? ""),
                "inter_token_latency_s": RequestMetrics.llmperfItl(r).map { .number(Double($0) / 1e9) } ?? .null,
                "ttft_s": RequestMetrics.ttft(r).map { .number(Double($0) / 1e9) } ?? .null,
                "end_to_end_latency_s": e2e.map { .number($0) } ?? .null,
                "request_output_throughput_token_per_s": RequestMetrics.outputTokensPerSecond(r).map { .number($0) } ?? .null,
                "number_total_tokens": .number(Double(r.inputTokens.saturatingAdd(r.outputTokens))),
                "number_output_tokens": .number(Double(r.outputTokens)),
                "number_input_tokens": .number(Double(r.inputTokens)),
            ]
            return .object(entry)
        }
    }

    /// Writes both files for the whole run and, with stages, a pair per stage
    /// (`<base>_stage<i>_summary.json`, `<base>_stage<i>_individual_responses.json`). Returns every path.
    @discardableResult
    public static func write(_ result: RunResult, records: [RequestRecord], to directory: String) throws -> [String] {
        let base = baseName(for: result.scenario)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var written: [String] = []
        func pair(_ stem: String, _ summary: [String: JSONValue], _ records: [RequestRecord]) throws {
            let summaryPath = (directory as NSString).appendingPathComponent("\(stem)_summary.json")
            let individualPath = (directory as NSString).appendingPathComponent("\(stem)_individual_responses.json")
            try FileOutput.write(try encoder.encode(JSONValue.object(summary)), to: summaryPath)
            try FileOutput.write(try encoder.encode(JSONValue.array(individualResponses(records))), to: individualPath)
            written += [summaryPath, individualPath]
        }
        try pair(base, summary(result), records)
        if result.stages.count > 1 {
            let byStage = Dictionary(grouping: records, by: \.stage)
            for stage in result.stages {
                try pair("\(base)_stage\(stage.index)", summary(result, stage: stage), byStage[stage.index] ?? [])
            }
        }
        return written
    }
}
