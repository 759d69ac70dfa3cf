import Foundation
@testable import StampedeCluster
import StampedeCore
import StampedeEngine
import Testing

extension ClusterSuite {
    @Suite("Authentication and admission")
    struct AuthTests {
        // MARK: ClusterAuth

        @Test("a proof verifies only with the same token, nonce and worker id")
        func proofAndVerify() {
            let nonce = ClusterAuth.makeNonce()
            let proof = ClusterAuth.proof(token: "secret", nonce: nonce, workerId: "w1")
            #expect(ClusterAuth.verify(proof: proof, token: "secret", nonce: nonce, workerId: "w1"))
            #expect(!ClusterAuth.verify(proof: proof, token: "wrong", nonce: nonce, workerId: "w1"))
            #expect(!ClusterAuth.verify(proof: proof, token: "secret", nonce: ClusterAuth.makeNonce(), workerId: "w1"))
            #expect(!ClusterAuth.verify(proof: proof, token: "secret", nonce: nonce, workerId: "w2"))
            #expect(!ClusterAuth.verify(proof: proof.uppercased().replacingOccurrences(of: "A", with: "G"), token: "secret", nonce: nonce, workerId: "w1"))
            #expect(!ClusterAuth.verify(proof: "not hex!", token: "secret", nonce: nonce, workerId: "w1"))
            #expect(!ClusterAuth.verify(proof: String(proof.dropLast()), token: "secret", nonce: nonce, workerId: "w1"))
            #expect(!ClusterAuth.verify(proof: "", token: "secret", nonce: nonce, workerId: "w1"))
        }

        @Test("proofs are the documented HMAC: hex, 32 bytes, deterministic; nonces are fresh 32-byte hex")
        func proofShape() {
            let a = ClusterAuth.proof(token: "secret", nonce: "abcd", workerId: "w1")
            #expect(a == ClusterAuth.proof(token: "secret", nonce: "abcd", workerId: "w1"))
            #expect(a.count == 64)
            #expect(a.allSatisfy { $0.isHexDigit })
            // The message is nonce + "\n" + worker id: moving the boundary changes the proof.
            #expect(a != ClusterAuth.proof(token: "secret", nonce: "abcd\nw", workerId: "1"))
            // hex(HMAC-SHA256(key: "secret", message: "abcd\nw1")), computed independently (Python's hmac module).
            #expect(a == "190753e86d600689a48a5a8dd5c114ce34caa5ecffaf185f29133399ebaa1eb8")
            let nonce = ClusterAuth.makeNonce()
            #expect(nonce.count == 64 && nonce.allSatisfy { $0.isHexDigit })
            #expect(nonce != ClusterAuth.makeNonce())
        }

        // MARK: Live handshake

        @Test("a wrong token is refused with 'authentication failed'")
        func wrongToken() async throws {
            let live = try await LiveCoordinator.start(token: "secret")
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let agent = TestWorkers.agent(port: live.port, id: "intruder", token: "wrong")
            let error = await #expect(throws: WorkerAgentError.self) {
                try await withTimeout(.seconds(10), "worker run") { try await agent.run() }
            }
            #expect(error?.description.contains("authentication failed") == true, "\(String(describing: error))")
            #expect(await live.coordinator.workerCount == 0)
        }

        @Test("a worker without a token is told that the coordinator requires one")
        func missingToken() async throws {
            let live = try await LiveCoordinator.start(token: "secret")
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let agent = TestWorkers.agent(port: live.port, id: "tokenless", token: nil)
            let error = await #expect(throws: WorkerAgentError.self) {
                try await withTimeout(.seconds(10), "worker run") { try await agent.run() }
            }
            #expect(error?.description.contains("requires a cluster token") == true, "\(String(describing: error))")
            #expect(await live.coordinator.workerCount == 0)
        }

        @Test("the right token joins, and quit ends the worker's run()")
        func rightToken() async throws {
            let live = try await LiveCoordinator.start(token: "secret")
            let agent = TestWorkers.agent(port: live.port, id: "w1", token: "secret")
            let worker = Task { try await withTimeout(.seconds(15), "worker run") { try await agent.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))
            #expect(await live.coordinator.liveWorkers == ["w1"])
            #expect(!live.log.matching("worker w1 connected").isEmpty, "\(live.log.transcript)")
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }

        @Test("hello with protocol version 2 gets a reject naming the version, then the connection closes")
        func wrongProtocolVersion() async throws {
            let live = try await LiveCoordinator.start()
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let (reply, closed) = try await offload {
                let connection = try RawTCPConnection(port: live.port)
                defer { connection.close() }
                try connection.send(#"{"type":"hello","v":2,"worker_id":"future","version":"9.0.0","host":"h","cores":1}"# + "\n")
                return (try connection.readLine(timeout: .seconds(5)), connection.waitForClose(timeout: .seconds(5)))
            }
            let line = try #require(reply, "the coordinator closed without a reject line")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["type"] as? String == "reject")
            #expect(object["v"] as? Int == 1)
            let reason = try #require(object["reason"] as? String)
            #expect(reason.contains("protocol version 2 not supported"), "\(reason)")
            #expect(reason.contains("speaks 1"), "\(reason)")
            #expect(closed, "the connection stayed open after the reject")
            #expect(await live.coordinator.workerCount == 0)
        }

        @Test("a garbage line is rejected and logged, and a joined worker stays joined")
        func garbageLine() async throws {
            let live = try await LiveCoordinator.start()
            let agent = TestWorkers.agent(port: live.port, id: "steady")
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await agent.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))

            let (reply, closed, localPort) = try await offload {
                let connection = try RawTCPConnection(port: live.port)
                defer { connection.close() }
                try connection.send("GET / HTTP/1.1 and other garbage\n")
                return (try connection.readLine(timeout: .seconds(5)), connection.waitForClose(timeout: .seconds(5)), connection.localPort)
            }
            if let reply {
                let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
                #expect(object?["type"] as? String == "reject")
                #expect((object?["reason"] as? String)?.contains("not a JSON message") == true, "\(reply)")
            }
            #expect(closed, "the connection stayed open after a garbage line")
            // The coordinator logs one line naming the peer and the reason.
            let logged = await waitUntil(timeout: .seconds(3)) { !live.log.matching("closing connection from", ":\(localPort)", "not a JSON message").isEmpty }
            #expect(logged, "\(live.log.transcript)")
            // Nothing else was disturbed.
            try await Task.sleep(for: .milliseconds(300))
            #expect(await live.coordinator.workerCount == 1)
            #expect(await live.coordinator.liveWorkers == ["steady"])
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }

        @Test("a peer that never says hello is disconnected after the handshake timeout")
        func handshakeTimeout() async throws {
            let live = try await LiveCoordinator.start(handshakeTimeout: .milliseconds(500))
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let started = ContinuousClock.now
            let closed = try await offload {
                let connection = try RawTCPConnection(port: live.port)
                defer { connection.close() }
                return connection.waitForClose(timeout: .seconds(5))
            }
            #expect(closed)
            #expect(started.duration(to: .now) < .seconds(4))
            #expect(await waitUntil(timeout: .seconds(2)) { !live.log.matching("handshake not completed").isEmpty }, "\(live.log.transcript)")
        }

        @Test("with maxWorkers 1 a second worker is rejected with 'too many workers'")
        func tooManyWorkers() async throws {
            let live = try await LiveCoordinator.start(maxWorkers: 1)
            let first = TestWorkers.agent(port: live.port, id: "first")
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await first.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))

            let second = TestWorkers.agent(port: live.port, id: "second")
            let error = await #expect(throws: WorkerAgentError.self) {
                try await withTimeout(.seconds(10), "second worker run") { try await second.run() }
            }
            #expect(error?.description.contains("too many workers") == true, "\(String(describing: error))")
            #expect(await live.coordinator.liveWorkers == ["first"])
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }

        @Test("a refused worker gets exactly one reject line, naming the reason, then the connection closes")
        func singleRejectLine() async throws {
            let live = try await LiveCoordinator.start()
            let first = TestWorkers.agent(port: live.port, id: "taken")
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await first.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))

            let lines = try await offload {
                let connection = try RawTCPConnection(port: live.port)
                defer { connection.close() }
                try connection.send(#"{"type":"hello","v":1,"worker_id":"taken","version":"0.1.0","host":"h","cores":1}"# + "\n")
                var lines: [String] = []
                while let line = try connection.readLine(timeout: .seconds(5)) { lines.append(line) }
                return lines
            }
            #expect(lines.count == 1, "\(lines)")
            let object = try #require(try lines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect(object["type"] as? String == "reject")
            #expect(object["reason"] as? String == "duplicate worker id 'taken'")
            #expect(await live.coordinator.liveWorkers == ["taken"])
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }

        @Test("a second worker with an id already connected is rejected")
        func duplicateWorkerId() async throws {
            let live = try await LiveCoordinator.start()
            let first = TestWorkers.agent(port: live.port, id: "twin")
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await first.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))

            let second = TestWorkers.agent(port: live.port, id: "twin")
            let error = await #expect(throws: WorkerAgentError.self) {
                try await withTimeout(.seconds(10), "second worker run") { try await second.run() }
            }
            #expect(error?.description.contains("duplicate worker id") == true, "\(String(describing: error))")
            #expect(await live.coordinator.workerCount == 1)
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }
    }
}
