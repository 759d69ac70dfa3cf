import Foundation
import StampedeEngine

/// The console: the live line while the run goes (stderr), then the report (stdout).
///
/// On a terminal the live line is one line, cut to the terminal's width, redrawn in place each
/// interval; otherwise (a pipe, a CI log) a line is printed every `linesEvery` seconds.
struct ConsoleOutput: RunOutput {
    let settings: OutputSettings

    /// A slow terminal loses old live lines, never the report.
    var delivery: RunEventHub.Delivery { .newest(8) }

    func consume(_ events: AsyncStream<RunEvent>) async throws -> [String] {
        var line = LiveLinePacer(mode: settings.live, every: settings.linesEvery)
        for await event in events {
            switch event {
            case .interval(let update):
                if let text = line.text(for: update.status, width: TerminalWidth.standardError()) { Self.writeLive(text) }
            case .finished(let result):
                if let clear = line.clear() { Self.writeLive(clear) }
                print(ConsoleReport.render(result, showWorkers: settings.showWorkers), terminator: "")
                return []
            default:
                continue
            }
        }
        if let clear = line.clear() { Self.writeLive(clear) }
        return []
    }

    /// The live line goes to stderr, so that stdout holds only the report.
    static func writeLive(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

/// When and how the live line is written: pure, so the tests check the bytes.
struct LiveLinePacer {
    let mode: OutputSettings.LiveMode
    let every: Double
    private var lastPrinted = -Double.infinity
    private var drawn = false

    init(mode: OutputSettings.LiveMode, every: Double) {
        self.mode = mode
        self.every = every
    }

    /// What to write for a new status, if anything.
    mutating func text(for status: LiveStatus, width: Int?) -> String? {
        switch mode {
        case .off:
            return nil
        case .tty:
            drawn = true
            // Return to column 0, clear the line, draw; never wider than the terminal, so it cannot wrap.
            return "\r\u{1B}[2K" + Self.fit(LiveLine.render(status), width: width)
        case .lines:
            guard status.elapsedSeconds - lastPrinted >= every else { return nil }
            lastPrinted = status.elapsedSeconds
            return LiveLine.render(status) + "\n"
        }
    }

    /// Clears a drawn live line before the report.
    mutating func clear() -> String? {
        guard drawn else { return nil }
        drawn = false
        return "\r\u{1B}[2K"
    }

    /// Cuts `line` to `width - 1` characters (the last column left free), ending in "…" when cut.
    static func fit(_ line: String, width: Int?) -> String {
        guard let width, width > 1, line.count > width - 1 else { return line }
        return String(line.prefix(width - 2)) + "…"
    }
}

enum TerminalWidth {
    /// Columns of the terminal on stderr, from TIOCGWINSZ (nil when it is not a terminal).
    static func standardError() -> Int? {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
