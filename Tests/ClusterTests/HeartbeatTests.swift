@testable import StampedeCluster
import Testing

/// The heartbeat machine on plain numbers: when to ping, when to give up, and how long to sleep.
@Suite("Heartbeat")
struct HeartbeatTests {
    static let ms: Int64 = 1_000_000

    @Test("pings once per interval and sleeps exactly to the next ping")
    func pings() {
        var beat = Heartbeat(intervalNs: 1000 * Self.ms, timeoutNs: 5000 * Self.ms)
        #expect(beat.next(atNs: 0, lastHeardNs: 0) == .ping)
        #expect(beat.next(atNs: 0, lastHeardNs: 0) == .sleep(untilNs: 1000 * Self.ms))
        #expect(beat.next(atNs: 400 * Self.ms, lastHeardNs: 300 * Self.ms) == .sleep(untilNs: 1000 * Self.ms))
        #expect(beat.next(atNs: 1000 * Self.ms, lastHeardNs: 300 * Self.ms) == .ping)
        #expect(beat.next(atNs: 1001 * Self.ms, lastHeardNs: 300 * Self.ms) == .sleep(untilNs: 2000 * Self.ms))
    }

    @Test("gives up once the peer's silence passes the timeout, and wakes for that moment")
    func timeout() {
        var beat = Heartbeat(intervalNs: nil, timeoutNs: 5000 * Self.ms)
        #expect(beat.next(atNs: 1000 * Self.ms, lastHeardNs: 1000 * Self.ms) == .sleep(untilNs: 6000 * Self.ms + 1))
        // A message at 3 s moves the deadline; the wake-up at 6 s finds the peer alive and sleeps on.
        #expect(beat.next(atNs: 6000 * Self.ms + 1, lastHeardNs: 3000 * Self.ms) == .sleep(untilNs: 8000 * Self.ms + 1))
        // Past the timeout it looks once more after the grace (250 ms at most), then gives up.
        #expect(beat.next(atNs: 8000 * Self.ms + 1, lastHeardNs: 3000 * Self.ms) == .sleep(untilNs: 8250 * Self.ms + 1))
        #expect(beat.next(atNs: 8250 * Self.ms + 1, lastHeardNs: 3000 * Self.ms) == .timeout(silenceNs: 5250 * Self.ms + 1))
    }

    @Test("after a pause, messages read within the grace keep the peer")
    func graceAfterAPause() {
        var beat = Heartbeat(intervalNs: nil, timeoutNs: 3000 * Self.ms)
        // This process was stopped for 4 s: the heartbeat wakes first and sees 4 s of silence.
        #expect(beat.next(atNs: 4000 * Self.ms, lastHeardNs: 0) == .sleep(untilNs: 4250 * Self.ms))
        // The reader then takes the messages waiting in the socket: the peer is alive.
        #expect(beat.next(atNs: 4250 * Self.ms, lastHeardNs: 4010 * Self.ms) == .sleep(untilNs: 7010 * Self.ms + 1))
    }

    @Test("a ping interval longer than the timeout still wakes for the timeout")
    func timeoutBeforePing() {
        var beat = Heartbeat(intervalNs: 10_000 * Self.ms, timeoutNs: 2000 * Self.ms)
        #expect(beat.next(atNs: 0, lastHeardNs: 0) == .ping)
        #expect(beat.next(atNs: 0, lastHeardNs: 0) == .sleep(untilNs: 2000 * Self.ms + 1))
    }
}
