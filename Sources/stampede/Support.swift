import ArgumentParser
import Foundation
import Logging

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

/// Calls `handler` on SIGINT and SIGTERM; a second signal exits at once.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        let count = Counter()
        sources = [SIGINT, SIGTERM].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler {
                if count.increment() > 1 { exit(130) }
                FileHandle.standardError.write(Data("\nstopping (again to abort)…\n".utf8))
                handler()
            }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

import Synchronization

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
