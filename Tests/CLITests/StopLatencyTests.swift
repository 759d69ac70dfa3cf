import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A run stops on time whatever the target does: here a listener whose backlog is full, so every
/// connection attempt hangs until its connect timeout (10 s). Before, the run waited for those
/// attempts (2 s run: 12 s), and 10^6 users to spawn kept the actor from ever seeing its stop.
@Suite("Stop latency against a target that never accepts", .serialized)
struct StopLatencyTests {
    /// A TCP listener with backlog 0 that never accepts; the port is bound to 127.0.0.1.
    final class BlackHole: Sendable {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, bound == 0, listen(fd, 0) == 0 else { throw SubprocessError("cannot make a listener") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }

    @Test(arguments: [["--users", "2000", "--spawn-rate", "2000"], ["--users", "1000000", "--spawn-rate", "1000000"]])
    func runStopsOnTime(_ load: [String]) async throws {
        let hole = try BlackHole()
        let started = ContinuousClock.now
        let run = try Child(["run", "--target", "http://127.0.0.1:\(hole.port)", "--run-time", "2s", "--quiet"] + load)
        defer { run.terminate() }
        let status = await run.wait(timeout: .seconds(30))
        let took = started.duration(to: .now)
        #expect(status != nil, "still running after 30 s")
        // 2 s of run, cancelling what is in flight, the report, at most 1 s for the client to let go.
        #expect(took < .seconds(8), "a 2 s run took \(took)")
        #expect(run.stdout.contains("stopped by run_time"), "\(run.stdout.suffix(500))")
    }
}
