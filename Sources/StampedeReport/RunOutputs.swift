import Foundation
import StampedeCore
import StampedeEngine
import Synchronization

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

/// Collects what the outputs need during a run and writes them at the end.
/// Sendable: all mutable state sits behind one `Mutex`.
public final class RunOutputs: Sendable {
    struct State {
        var records: [RequestRecord] = []
        var lastLinePrinted = -1e9
        var liveShown = false
    }

    public let settings: OutputSettings
    let jsonl: RecordsJSONLWriter?
    let state = Mutex(State())

    public init(settings: OutputSettings) throws {
        self.settings = settings
        jsonl = try settings.requestsJSONLPath.map { try RecordsJSONLWriter(path: $0) }
    }

    /// The coordinator's `onRecords` callback.
    public func records(_ batch: [RequestRecord]) {
        jsonl?.append(batch)
        if settings.llmperfDirectory != nil { state.withLock { $0.records.append(contentsOf: batch) } }
    }

    /// The coordinator's `onLive` callback.
    public func live(_ status: LiveStatus) {
        switch settings.live {
        case .off: return
        case .tty:
            state.withLock { $0.liveShown = true }
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + LiveLine.render(status)).utf8))
        case .lines:
            let due = state.withLock { s in
                guard status.elapsedSeconds - s.lastLinePrinted >= settings.linesEvery else { return false }
                s.lastLinePrinted = status.elapsedSeconds
                return true
            }
            if due { FileHandle.standardError.write(Data((LiveLine.render(status) + "\n").utf8)) }
        }
    }

    /// Prints the final report to stdout and writes the files. Returns the paths written.
    @discardableResult
    public func finish(_ result: RunResult, showWorkers: Bool = false) throws -> [String] {
        if state.withLock({ $0.liveShown }) { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        print(ConsoleReport.render(result, showWorkers: showWorkers), terminator: "")
        var written: [String] = []
        if let jsonl {
            try jsonl.close()
            written.append(settings.requestsJSONLPath!)
        }
        if let path = settings.jsonPath {
            try JSONReport.write(result, to: path)
            written.append(path)
        }
        if let prefix = settings.csvPrefix {
            written += try LocustCSV.write(result, prefix: prefix)
        }
        if let path = settings.htmlPath {
            try HTMLReport.write(result, to: path)
            written.append(path)
        }
        if let directory = settings.llmperfDirectory {
            let records = state.withLock { $0.records }
            written += try LLMPerfExport.write(result, records: records, to: directory)
        }
        for path in written { print("wrote \(path)") }
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
