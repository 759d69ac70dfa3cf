import Foundation
import Synchronization
import StampedeCore
import StampedeEngine

/// This process's monotonic clock as nanoseconds since the process started. Both sides of the
/// protocol put their own reading of it in pings and pongs; it is never compared with wall time.
public enum ProcessClock {
    public static let start = ContinuousClock.now

    public static var nowNs: Int64 { start.duration(to: .now).nanoseconds }

    public static func ns(of instant: ContinuousClock.Instant) -> Int64 { start.duration(to: instant).nanoseconds }

    public static func instant(ofNs ns: Int64) -> ContinuousClock.Instant { start.advanced(by: .nanoseconds(ns)) }
}

/// Estimates `peer clock − local clock` from ping round trips, keeping the sample with the smallest
/// round trip (the one least disturbed by queueing).
public struct ClockOffsetEstimator: Sendable {
    public private(set) var offsetNs: Int64 = 0
    public private(set) var bestRoundTripNs: Int64 = .max

    public init() {}

    /// `sentNs` and `receivedNs` on the local clock; `peerNs` the peer's clock when it answered.
    public mutating func add(sentNs: Int64, peerNs: Int64, receivedNs: Int64) {
        let roundTrip = receivedNs - sentNs
        guard roundTrip >= 0, roundTrip <= bestRoundTripNs else { return }
        bestRoundTripNs = roundTrip
        offsetNs = peerNs - (sentNs + receivedNs) / 2
    }
}

/// CPU use of this process between calls, in percent of one core.
public struct CPUMeter: Sendable {
    private var lastCPU: Double
    private var lastWall: Int64

    public init() {
        lastCPU = Self.cpuSeconds()
        lastWall = ProcessClock.nowNs
    }

    public mutating func sample() -> Double {
        let cpu = Self.cpuSeconds()
        let wall = ProcessClock.nowNs
        defer { lastCPU = cpu; lastWall = wall }
        let elapsed = Double(wall - lastWall) / 1e9
        guard elapsed > 0 else { return 0 }
        return max(0, (cpu - lastCPU) / elapsed * 100)
    }

    /// User plus system CPU time of this process, seconds.
    public static func cpuSeconds() -> Double { ProcessCPU.cpuSeconds() }
}

/// When a peer was last heard from, on the process clock. Shared by a connection's reader and its
/// heartbeat task; Sendable because its only state is an atomic.
final class LastHeard: Sendable {
    private let ns = Atomic<Int64>(ProcessClock.nowNs)

    func touch() { ns.store(ProcessClock.nowNs, ordering: .relaxed) }

    var silence: Duration { .nanoseconds(ProcessClock.nowNs - ns.load(ordering: .relaxed)) }

    /// When the peer was last heard, on `ProcessClock`.
    var lastNs: Int64 { ns.load(ordering: .relaxed) }
}
