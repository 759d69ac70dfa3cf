import Logging
import Synchronization

/// Collects what a component logs, so a test can check that something was (or was not) logged.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]

        /// Message and metadata in one line, as a log handler would print them.
        var line: String {
            ([message] + metadata.keys.sorted().map { "\($0)=\(metadata[$0]!)" }).joined(separator: " ")
        }
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    func logger(_ label: String, level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = level
        return logger
    }

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    /// Entries whose line contains every one of `parts`.
    func matching(_ parts: String...) -> [Entry] {
        all.filter { entry in parts.allSatisfy { entry.line.contains($0) } }
    }

    var transcript: String { all.map { "[\($0.level)] \($0.line)" }.joined(separator: "\n") }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        capture.append(.init(level: event.level, message: event.message.description,
                             metadata: all.mapValues { "\($0)" }))
    }
}
