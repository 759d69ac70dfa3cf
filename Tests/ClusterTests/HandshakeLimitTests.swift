import Foundation
@testable import StampedeCluster
import StampedeTestSupport
import Testing

extension ClusterSuite {
    @Suite("Admission past the pending-handshake limit")
    struct HandshakeLimitTests {
        /// Connections past `maxPendingHandshakes` are closed at once. They used to be dropped without finishing
        /// their NIOAsyncChannel, which trapped ("Deinited NIOAsyncWriter without calling finish()") and took the
        /// whole coordinator down when 200 workers connected at once.
        @Test("a burst past the limit is closed, the coordinator survives and a worker still joins")
        func burstPastTheLimit() async throws {
            let live = try await LiveCoordinator.start(token: "secret")
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let limit = ClusterServerConfig().maxPendingHandshakes
            let sockets = try (0..<(limit + 40)).map { _ in try Loopback.connect(port: live.port) }
            // The first `limit` are closed below to free the handshake places; the rest at the end (never one twice).
            defer { for fd in sockets.dropFirst(limit) { close(fd) } }
            try await Task.sleep(for: .milliseconds(500))
            let agent = TestWorkers.agent(port: live.port, id: "w1", token: "secret")
            for fd in sockets.prefix(limit) { close(fd) }
            let worker = Task { try await withTimeout(.seconds(30), "worker run") { try await agent.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))
            #expect(await live.coordinator.liveWorkers == ["w1"])
        }
    }
}
