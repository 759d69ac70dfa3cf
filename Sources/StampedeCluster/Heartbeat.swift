import StampedeCore

/// When one end of a connection pings, and when it gives up on a silent peer. Pure: times in,
/// decisions out. The connection's heartbeat task sleeps exactly until the decision's deadline
/// (the next ping, or the moment the peer's silence would pass the timeout), not in slices.
struct Heartbeat: Sendable, Equatable {
    enum Decision: Sendable, Equatable {
        /// Send a ping now.
        case ping
        /// The peer has been silent for `silenceNs`, more than the timeout: close the connection.
        case timeout(silenceNs: Int64)
        /// Nothing to do before `untilNs`.
        case sleep(untilNs: Int64)
    }

    /// Between pings (nil: this end does not ping).
    let intervalNs: Int64?
    /// Silence after which the peer is taken for gone.
    let timeoutNs: Int64
    /// How long a silence past the timeout is re-checked before it counts: after this process was
    /// paused (SIGSTOP, a starved CPU), the heartbeat task can wake before the reader has taken the
    /// messages already waiting in the socket.
    let graceNs: Int64
    private var lastPingNs: Int64?
    /// When the silence was first seen past the timeout (nil: it was not).
    private var suspectSinceNs: Int64?

    init(intervalNs: Int64?, timeoutNs: Int64) {
        self.intervalNs = intervalNs.map { max(1_000_000, $0) }
        self.timeoutNs = max(1_000_000, timeoutNs)
        self.graceNs = min(self.timeoutNs / 4, 250_000_000)
    }

    /// What to do at `now`, when the peer was last heard at `lastHeardNs` (both on one monotonic clock).
    mutating func next(atNs now: Int64, lastHeardNs: Int64) -> Decision {
        let silence = now.saturatingSubtract(lastHeardNs)
        if silence > timeoutNs {
            // Past the timeout: once more after the grace, so that messages already received count.
            guard let since = suspectSinceNs else {
                suspectSinceNs = now
                return .sleep(untilNs: now.saturatingAdd(graceNs))
            }
            if now.saturatingSubtract(since) >= graceNs { return .timeout(silenceNs: silence) }
            return .sleep(untilNs: since.saturatingAdd(graceNs))
        }
        suspectSinceNs = nil
        let giveUpAt = lastHeardNs.saturatingAdd(timeoutNs).saturatingAdd(1)
        guard let intervalNs else { return .sleep(untilNs: giveUpAt) }
        let pingAt = lastPingNs.map { $0.saturatingAdd(intervalNs) } ?? now
        if now >= pingAt {
            lastPingNs = now
            return .ping
        }
        return .sleep(untilNs: min(pingAt, giveUpAt))
    }
}
