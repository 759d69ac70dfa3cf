import Synchronization

/// The clock the engine's drivers read and sleep on: the monotonic clock in production, a test
/// clock (swift-clocks' `TestClock`, any `Clock<Duration>`) in tests, through `ClockAdapter`.
///
/// The state machines never read a clock: every event they take carries the time. Only the thin
/// actors that drive them read `nowNs` and sleep until the next deadline the machine asks for.
public protocol EngineClock: Sendable {
    /// Nanoseconds since the clock's origin; never decreases.
    var nowNs: Int64 { get }
    /// The monotonic instant of `nowNs == 0`, to place run epochs (which travel as
    /// `ContinuousClock.Instant`) on this clock.
    var origin: ContinuousClock.Instant { get }
    /// Sleeps until `nowNs` reaches `deadlineNs`. Throws when the task is cancelled.
    func sleep(untilNs deadlineNs: Int64) async throws
}

extension EngineClock {
    /// Where `instant` lies on this clock.
    public func ns(of instant: ContinuousClock.Instant) -> Int64 {
        origin.duration(to: instant).nanoseconds
    }
}

extension EngineClock where Self == ClockAdapter<ContinuousClock> {
    /// The monotonic clock.
    public static var continuous: ClockAdapter<ContinuousClock> { ClockAdapter(ContinuousClock()) }
}

/// Any `Clock<Duration>` as an `EngineClock`; its origin is the moment the adapter was made.
public struct ClockAdapter<C: Clock>: EngineClock where C.Duration == Duration {
    public let clock: C
    public let start: C.Instant
    public let origin: ContinuousClock.Instant

    public init(_ clock: C) {
        self.clock = clock
        self.start = clock.now
        self.origin = .now
    }

    public var nowNs: Int64 { start.duration(to: clock.now).nanoseconds }

    public func sleep(untilNs deadlineNs: Int64) async throws {
        try await clock.sleep(until: start.advanced(by: .nanoseconds(deadlineNs)), tolerance: nil)
    }
}

/// Lets one driver sleep until a deadline or until an event wakes it, whichever comes first: the
/// machine's state changed (a new share, a stop, a request ended), so its next deadline may have.
/// A signal sent while the driver is not waiting is kept, so none is lost between a check and a wait.
///
/// Sendable: its only stored property is a `Mutex`.
public final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiting driver, or the next wait if none is waiting.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at `deadlineNs` on `clock` (never, when nil), at a signal, or when the task is cancelled.
    /// Callers keep deadlines short-lived or let them pass: a cancelled sleep's timer is freed only at its
    /// deadline by the runtime, so waits for far deadlines that end early are what leaks memory.
    public func wait(untilNs deadlineNs: Int64?, on clock: any EngineClock) async {
        if state.withLock({ state in defer { state.pending = false }; return state.pending }) { return }
        if let deadlineNs, clock.nowNs >= deadlineNs { return }
        await withTaskGroup(of: Void.self) { group in
            if let deadlineNs { group.addTask { try? await clock.sleep(untilNs: deadlineNs) } }
            group.addTask { await self.signalled() }
            await group.next()
            group.cancelAll()
        }
    }

    private func signalled() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    // A cancellation that ran before the waiter was stored finds none: check here.
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
