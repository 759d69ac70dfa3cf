import ArgumentParser
import Foundation
import Logging
import UnixSignals

/// A one-line error for the user; ArgumentParser prints it as "Error: …" and exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum LogSetup {
    /// Logs go to stderr so that reports on stdout stay clean.
    private static let once: Void = LoggingSystem.bootstrap(StreamLogHandler.standardError)
    static func bootstrap() { _ = once }
}

/// Calls `handler` on the first SIGINT or SIGTERM; a second signal exits at once (130 or 143).
///
/// A command that stops early on a signal still writes its partial report, then exits with
/// `exitCode`: 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as shells report a
/// process killed by it), so that `timeout 60 stampede run …` in CI is not mistaken for a pass.
/// The signals come from swift-service-lifecycle's `UnixSignalsSequence` (the mechanism its
/// `ServiceGroup` uses); a `ServiceGroup` itself does not fit here, as it neither tells which signal
/// came nor lets a second one abort.
final class SignalTrap: Sendable {
    private let state: SignalState
    private let watcher: Task<Void, Never>

    /// Returns once the signals are trapped: one sent after this returns is not missed.
    init(_ handler: @escaping @Sendable () -> Void) async {
        let state = SignalState()
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        self.state = state
        watcher = Task {
            for await signal in signals {
                if state.record(signal.rawValue) > 1 { exit(128 + signal.rawValue) }
                FileHandle.standardError.write(Data("\nstopping (again to abort)…\n".utf8))
                handler()
            }
        }
    }

    /// 130 after SIGINT, 143 after SIGTERM (the first signal received); nil when none came.
    var exitCode: Int32? { state.first.map { 128 + $0 } }

    /// Stops trapping (the sequence ends when its task is cancelled, which releases its signal sources).
    func cancel() { watcher.cancel() }
}

import Synchronization

/// The signals a `SignalTrap` received: how many, and the first.
final class SignalState: Sendable {
    private let value = Mutex<(count: Int, first: Int32?)>((0, nil))

    /// Records `signo`; returns how many signals came so far.
    func record(_ signo: Int32) -> Int {
        value.withLock {
            $0.count += 1
            if $0.first == nil { $0.first = signo }
            return $0.count
        }
    }

    var first: Int32? { value.withLock { $0.first } }
}

/// Waits for `work` at most `limit`, then returns whether it finished; the work goes on in the
/// background otherwise. For shutting down an HTTP client after the report is written: a connection
/// attempt to a target that never accepts holds it until its connect timeout, and a stop must not.
@discardableResult
func awaitAtMost(_ limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    let finished = SignalState()   // reused as a once-flag: record() returns 1 for the first caller
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        Task {
            await work()
            if finished.record(1) == 1 { continuation.resume(returning: true) }
        }
        Task {
            try? await Task.sleep(for: limit)
            if finished.record(0) == 1 { continuation.resume(returning: false) }
        }
    }
}

