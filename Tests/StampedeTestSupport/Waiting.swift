import Foundation

/// An operation did not finish in time.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let after: Duration
    public init(what: String, after: Duration) {
        self.what = what
        self.after = after
    }
    public var description: String { "\(what) did not finish within \(after)" }
}

/// Runs `body`, cancelling it and throwing `TimedOut` once `timeout` has passed.
/// `body` must honour cancellation, or the wait outlives the timeout.
public func withTimeout<T: Sendable>(_ timeout: Duration, _ what: String = "operation",
                                     _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut(what: what, after: timeout)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Polls `condition` every `poll` until it holds (true) or `timeout` passes (false). The condition
/// is checked once more at the deadline, so a slow poll never turns a success into a failure.
public func waitUntil(timeout: Duration, poll: Duration = .milliseconds(20),
                      _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: poll)
    }
}

/// Runs blocking work (socket reads with their own timeouts) on a Dispatch thread, so that the
/// cooperative pool, which the servers and clients under test need, is never blocked.
public func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
