import ArgumentParser
import Foundation
import Logging
import StampedeReport

/// Flags for what a run prints and writes. Shared by `run` and `coordinator`.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the native results (summary, per-stage blocks, 1-second time series) as JSON.", valueName: "path"))
    var json: String?

    @Option(help: ArgumentHelp("Write LLMPerf's <name>_summary.json and <name>_individual_responses.json into this directory.", valueName: "dir"))
    var llmperfDir: String?

    @Option(help: ArgumentHelp("Write every request's raw record as one JSON line.", valueName: "path"))
    var requestsJsonl: String?

    @Option(help: ArgumentHelp("Write Locust's CSV files: <prefix>_stats.csv, _stats_history.csv (one row per second), _failures.csv and _exceptions.csv.", valueName: "prefix"))
    var csv: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report with charts (opens offline).", valueName: "path"))
    var html: String?

    @Option(help: ArgumentHelp("Exit with code 1 when the share of failed requests is above this (0 to 1). 0 means any failure fails the run.", valueName: "fraction"))
    var maxErrorRate: Double = 0

    @Flag(help: ArgumentHelp("Exit with code 1 when a worker's load generator was saturated (CPU, event-loop or schedule lag past the thresholds in docs/metrics.md): the figures would be the generator's, not the server's."))
    var failOnSaturation = false

    @Flag(help: "No live progress line.")
    var quiet = false

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "warning"

    mutating func validate() throws {
        guard (0...1).contains(maxErrorRate) else { throw ValidationError("--max-error-rate: must be between 0 and 1 (got \(maxErrorRate))") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    var settings: OutputSettings {
        let live: OutputSettings.LiveMode = quiet ? .off : (isatty(STDERR_FILENO) == 1 ? .tty : .lines)
        var settings = OutputSettings(jsonPath: json, llmperfDirectory: llmperfDir, requestsJSONLPath: requestsJsonl,
                                      live: live, maxErrorRate: maxErrorRate, csvPrefix: csv, htmlPath: html)
        settings.failOnSaturation = failOnSaturation
        return settings
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        return logger
    }
}
