import Foundation
import NIOCore
import NIOEmbedded
@testable import StampedeCluster
import StampedeCore
import Testing

extension ClusterSuite {
    /// The handshake state machines, fed directly: no sockets, no clock.
    @Suite("Handshake state machines")
    struct HandshakeTests {
        static let token = "cluster-secret-token"

        func worker(token: String? = HandshakeTests.token) -> WorkerHandshake {
            WorkerHandshake(workerId: "w1", token: token, instance: "inst-1", version: "0.1.0", host: "h", cores: 2, nonce: String(repeating: "a1", count: 32))
        }

        @Test("an honest exchange: hello → challenge with a valid proof → auth → admitted → joined")
        func honestExchange() {
            var w = worker()
            var c = CoordinatorHandshake(token: Self.token, nonce: String(repeating: "b2", count: 32))
            guard case .send(let challenge) = c.receive(w.hello) else { Issue.record("no challenge"); return }
            guard case .send(let auth) = w.receive(challenge) else { Issue.record("worker refused an honest challenge"); return }
            #expect(c.receive(auth) == .admit(.init(workerId: "w1", version: "0.1.0", host: "h", cores: 2, instance: "inst-1")))
            #expect(w.receive(.welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 7))
                    == .joined(.init(heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 7)))
        }

        @Test("a worker with a token refuses a coordinator that skips the challenge, and does not retry")
        func rogueSkipsChallenge() {
            var w = worker()
            guard case .fail(let reason, let retry) = w.receive(.welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 0)) else {
                Issue.record("joined a coordinator that never proved the token"); return
            }
            #expect(!retry)
            #expect(reason.contains("did not prove"), "\(reason)")
        }

        @Test("a worker refuses a challenge whose proof is wrong, before it answers with its own")
        func rogueWrongProof() {
            var w = worker()
            let forged = ClusterAuth.coordinatorProof(token: "guessed", workerNonce: w.nonce, coordinatorNonce: "cc", workerId: "w1")
            guard case .fail(_, let retry) = w.receive(.challenge(nonce: "cc", proof: forged)) else {
                Issue.record("answered a forged challenge"); return
            }
            #expect(!retry)
            // A proof replayed from another connection (other worker nonce) fails too.
            var other = worker()
            let replayed = ClusterAuth.coordinatorProof(token: Self.token, workerNonce: "0f0f", coordinatorNonce: "cc", workerId: "w1")
            guard case .fail = other.receive(.challenge(nonce: "cc", proof: replayed)) else { Issue.record("accepted a replayed proof"); return }
        }

        @Test("a worker without a token joins only a coordinator that asks for none")
        func tokenless() {
            var open = worker(token: nil)
            #expect(open.receive(.welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 0))
                    == .joined(.init(heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 0)))
            var asked = worker(token: nil)
            guard case .fail(let reason, false) = asked.receive(.challenge(nonce: "cc", proof: "dd")) else { Issue.record("no failure"); return }
            #expect(reason.contains("requires a cluster token"))
        }

        @Test("a duplicate-id reject is retried; other rejects are final")
        func rejects() {
            var a = worker()
            #expect(a.receive(.reject(reason: "duplicate worker id 'w1' (another process holds it)"))
                    == .fail(reason: "coordinator rejected this worker: duplicate worker id 'w1' (another process holds it)", retry: true))
            var b = worker()
            guard case .fail(_, false) = b.receive(.reject(reason: "authentication failed")) else { Issue.record("retried a final reject"); return }
        }

        @Test("the coordinator refuses anything but hello first, a wrong proof, and anything after the end")
        func coordinatorRefusals() {
            var first = CoordinatorHandshake(token: Self.token)
            #expect(first.receive(.ping(t: 1)) == .refuse(.unexpected("expected hello first")))
            var wrong = CoordinatorHandshake(token: Self.token)
            _ = wrong.receive(worker().hello)
            #expect(wrong.receive(.auth(hmac: String(repeating: "00", count: 32))) == .refuse(.unauthenticated))
            var open = CoordinatorHandshake(token: nil)
            guard case .admit = open.receive(worker(token: nil).hello) else { Issue.record("no admit without a token"); return }
            guard case .refuse = open.receive(worker().hello) else { Issue.record("a second hello was accepted"); return }
        }

        // MARK: The gate in the pipeline

        @Test("before authentication the pipeline refuses content unread, and more than 16 KiB in all")
        func preAuthGate() throws {
            let channel = EmbeddedChannel()
            let gate = ConnectionGate(preAuthTypes: ClusterMessage.coordinatorPreAuthTypes)
            try ClusterPipeline.configure(channel, maxLineBytes: 4 * 1024 * 1024, gate: gate)
            defer { _ = try? channel.finish() }
            // The overflow line of the report: an unauthenticated stats message with Int.max counters.
            let stats = overflowStatsLine(worker: "x", seq: 0)
            #expect(throws: ProtocolError.unexpected("'stats' before authentication")) {
                try channel.writeInbound(ByteBuffer(string: stats + "\n"))
            }
            // After the gate opens the same line is decoded and refused for its values, not crashed on.
            let open = EmbeddedChannel()
            try ClusterPipeline.configure(open, maxLineBytes: 4 * 1024 * 1024, gate: .opened())
            defer { _ = try? open.finish() }
            do {
                try open.writeInbound(ByteBuffer(string: stats + "\n"))
                Issue.record("an Int.max counter was accepted")
            } catch let error as ProtocolError {
                #expect(error.description.contains("counter above"), "\(error)")
            }
            // An unterminated line is cut at 16 KiB before authentication (not at the 4 MiB line limit).
            let flood = EmbeddedChannel()
            try ClusterPipeline.configure(flood, maxLineBytes: 4 * 1024 * 1024, gate: ConnectionGate(preAuthTypes: ["hello"]))
            #expect(throws: ProtocolError.lineTooLong(limit: WireCodec.preAuthMaxBytes)) {
                for _ in 0..<64 { try flood.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: 1024)) }
            }
            #expect(!flood.isActive)
        }
    }
}
