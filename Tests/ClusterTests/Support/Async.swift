import Foundation

/// An operation did not finish in time.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    let after: Duration
    var description: String { "\(what) did not finish within \(after)" }
}

/// Runs `body`, cancelling it and throwing `TimedOut` once `timeout` has passed.
/// `body` must honour cancellation (every use here does), or the wait outlives the timeout.
func withTimeout<T: Sendable>(_ timeout: Duration, _ what: String = "operation",
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

/// Polls `condition` every `poll` until it holds (true) or `timeout` passes (false).
func waitUntil(timeout: Duration, poll: Duration = .milliseconds(20),
               _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: poll)
    }
}

/// Runs blocking work (socket reads with their own timeouts) on a Dispatch thread, so that the
/// cooperative pool, which the coordinator and the workers under test need, is never blocked.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
