import Foundation
import StampedeCore
import StampedeEngine

/// Which outputs a run writes, from the CLI's flags.
public struct OutputSettings: Sendable {
    public var jsonPath: String?
    public var llmperfDirectory: String?
    public var requestsJSONLPath: String?
    /// `--csv PREFIX`: Locust's four CSV files.
    public var csvPrefix: String?
    /// `--html PATH`: the self-contained HTML report.
    public var htmlPath: String?
    /// Live progress: `.tty` redraws one line, `.lines` prints a line every `linesEvery` seconds, `.off` prints nothing.
    public var live: LiveMode
    public var linesEvery: Double = 10
    /// The error rate above which the exit code is 1.
    public var maxErrorRate: Double
    /// Exit with code 1 when the load generator was saturated.
    public var failOnSaturation = false
    /// The console report's per-worker table.
    public var showWorkers = false

    public enum LiveMode: Sendable { case tty, lines, off }

    public init(jsonPath: String? = nil, llmperfDirectory: String? = nil, requestsJSONLPath: String? = nil,
                live: LiveMode = .off, maxErrorRate: Double = 0, csvPrefix: String? = nil, htmlPath: String? = nil) {
        self.jsonPath = jsonPath
        self.llmperfDirectory = llmperfDirectory
        self.requestsJSONLPath = requestsJSONLPath
        self.csvPrefix = csvPrefix
        self.htmlPath = htmlPath
        self.live = live
        self.maxErrorRate = maxErrorRate
    }

    /// Whether workers must ship raw records.
    public var needsRecords: Bool { llmperfDirectory != nil || requestsJSONLPath != nil }
}

/// An output of a run: it reads the run's events (`RunEventHub`) until they end, off the coordinator,
/// and returns the paths it wrote. Adding an output is one type of this kind plus its flag.
public protocol RunOutput: Sendable {
    /// Whether it needs every event (files of records) or only the newest (views, final files).
    var delivery: RunEventHub.Delivery { get }
    func consume(_ events: AsyncStream<RunEvent>) async throws -> [String]
}

/// An output that needs only the final results.
public protocol FinalOutput: RunOutput {
    func write(_ result: RunResult) throws -> [String]
}

extension FinalOutput {
    /// `.finished` is the last event published, so a buffer of one always holds it.
    public var delivery: RunEventHub.Delivery { .newest(1) }

    public func consume(_ events: AsyncStream<RunEvent>) async throws -> [String] {
        for await event in events {
            if case .finished(let result) = event { return try write(result) }
        }
        return []
    }
}

/// The outputs of one run, each subscribed to its events and run in a task of its own.
public final class RunOutputs: Sendable {
    public let settings: OutputSettings
    public let hub: RunEventHub
    private let tasks: [Task<[String], any Error>]

    /// Opens what must exist before the run (the JSONL file) and subscribes every output, plus `extra` ones
    /// (the web dashboard), so that none misses an event.
    public init(settings: OutputSettings, hub: RunEventHub = RunEventHub(), extra: [any RunOutput] = []) throws {
        self.settings = settings
        self.hub = hub
        var outputs: [any RunOutput] = [ConsoleOutput(settings: settings)]
        if let path = settings.requestsJSONLPath { outputs.append(try RecordsJSONLOutput(path: path)) }
        if let path = settings.jsonPath { outputs.append(JSONOutput(path: path)) }
        if let prefix = settings.csvPrefix { outputs.append(CSVOutput(prefix: prefix)) }
        if let path = settings.htmlPath { outputs.append(HTMLOutput(path: path)) }
        if let directory = settings.llmperfDirectory { outputs.append(LLMPerfOutput(directory: directory)) }
        outputs += extra
        tasks = outputs.map { output in
            let events = hub.subscribe(output.delivery)
            return Task { try await output.consume(events) }
        }
    }

    /// Where the coordinator sends its events (`RunCoordinator(onEvent:)`).
    public var publish: @Sendable (RunEvent) -> Void { { [hub] in hub.publish($0) } }

    /// After the run (its `.finished` published): ends the stream, waits for every output, and prints
    /// the paths written. Throws the first output's error after all have finished.
    @discardableResult
    public func finish() async throws -> [String] {
        hub.close()
        var written: [String] = []
        var firstError: (any Error)?
        for task in tasks {
            do { written += try await task.value } catch { firstError = firstError ?? error }
        }
        for path in written { print("wrote \(path)") }
        if let firstError { throw firstError }
        return written
    }

    /// 0: success; 1: requests failed past `maxErrorRate`, an SLO failed, or every worker was lost;
    /// 2: the run could not be carried out.
    public func exitCode(_ result: RunResult) -> Int32 {
        RunVerdict.exitCode(result, maxErrorRate: settings.maxErrorRate, failOnSaturation: settings.failOnSaturation)
    }
}

public enum RunVerdict {
    /// With `failOnSaturation`, a run whose load generator was saturated (`generator.saturated`) fails too.
    public static func exitCode(_ result: RunResult, maxErrorRate: Double, failOnSaturation: Bool = false) -> Int32 {
        if result.stopReason == .startFailed || result.overall.requestsFinished == 0 { return 2 }
        if result.stopReason == .allWorkersLost { return 1 }
        if result.overall.errorRate > maxErrorRate { return 1 }
        if result.slo?.passed == false { return 1 }
        if failOnSaturation, result.generator?.saturated == true { return 1 }
        return 0
    }
}
