import Foundation
@testable import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeTestSupport
import Synchronization
import Testing

extension ClusterSuite {
    @Suite("Authentication and admission")
    struct AuthTests {
        // MARK: ClusterAuth

        @Test("each side's proof verifies only with the same token, nonces and worker id, and never as the other side's")
        func proofAndVerify() {
            let c = ClusterAuth.makeNonce(), w = ClusterAuth.makeNonce()
            let worker = ClusterAuth.workerProof(token: "secret", coordinatorNonce: c, workerNonce: w, workerId: "w1")
            #expect(ClusterAuth.verifyWorker(proof: worker, token: "secret", coordinatorNonce: c, workerNonce: w, workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: worker, token: "wrong", coordinatorNonce: c, workerNonce: w, workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: worker, token: "secret", coordinatorNonce: ClusterAuth.makeNonce(), workerNonce: w, workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: worker, token: "secret", coordinatorNonce: c, workerNonce: ClusterAuth.makeNonce(), workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: worker, token: "secret", coordinatorNonce: c, workerNonce: w, workerId: "w2"))
            #expect(!ClusterAuth.verifyWorker(proof: "not hex!", token: "secret", coordinatorNonce: c, workerNonce: w, workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: String(worker.dropLast()), token: "secret", coordinatorNonce: c, workerNonce: w, workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: "", token: "secret", coordinatorNonce: c, workerNonce: w, workerId: "w1"))
            let coordinator = ClusterAuth.coordinatorProof(token: "secret", workerNonce: w, coordinatorNonce: c, workerId: "w1")
            #expect(ClusterAuth.verifyCoordinator(proof: coordinator, token: "secret", workerNonce: w, coordinatorNonce: c, workerId: "w1"))
            #expect(!ClusterAuth.verifyCoordinator(proof: coordinator, token: "wrong", workerNonce: w, coordinatorNonce: c, workerId: "w1"))
            // A reflected proof (one side's sent back as the other's, even with the nonces swapped) never verifies.
            #expect(!ClusterAuth.verifyCoordinator(proof: worker, token: "secret", workerNonce: w, coordinatorNonce: c, workerId: "w1"))
            #expect(!ClusterAuth.verifyCoordinator(proof: worker, token: "secret", workerNonce: c, coordinatorNonce: w, workerId: "w1"))
            #expect(!ClusterAuth.verifyWorker(proof: coordinator, token: "secret", coordinatorNonce: w, workerNonce: c, workerId: "w1"))
        }

        @Test("proofs are the documented HMACs: hex, 32 bytes, deterministic; nonces are fresh 32-byte hex")
        func proofShape() {
            let a = ClusterAuth.workerProof(token: "secret", coordinatorNonce: "abcd", workerNonce: "ef01", workerId: "w1")
            #expect(a == ClusterAuth.workerProof(token: "secret", coordinatorNonce: "abcd", workerNonce: "ef01", workerId: "w1"))
            #expect(a.count == 64 && a.allSatisfy { $0.isHexDigit })
            // hex(HMAC-SHA256(key: "secret", message: "stampede-worker\nabcd\nef01\nw1")), computed independently (Python's hmac module).
            #expect(a == "15c8899ce5c13a9c2ff85c13e6cb2a7bb86e35f0c7ca787caf6f27e863a308ef")
            let b = ClusterAuth.coordinatorProof(token: "secret", workerNonce: "ef01", coordinatorNonce: "abcd", workerId: "w1")
            // hex(HMAC-SHA256(key: "secret", message: "stampede-coordinator\nef01\nabcd\nw1")).
            #expect(b == "a8d596aca0aa3765a83d56908bc29d5d95d0cbb701647dc36ad188fa55b648a3")
            let nonce = ClusterAuth.makeNonce()
            #expect(nonce.count == 64 && nonce.allSatisfy { $0.isHexDigit })
            #expect(nonce != ClusterAuth.makeNonce())
        }

        // MARK: Live handshake

        @Test("a wrong token: the worker refuses the coordinator, and a wrong proof from a worker gets 'authentication failed'")
        func wrongToken() async throws {
            let live = try await LiveCoordinator.start(token: "secret")
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            // The worker checks the coordinator's proof first: with another token it cannot verify it.
            let agent = TestWorkers.agent(port: live.port, id: "intruder", token: "wrong")
            let error = await #expect(throws: WorkerAgentError.self) {
                try await withTimeout(.seconds(10), "worker run") { try await agent.run() }
            }
            #expect(error?.description.contains("did not prove that it knows the cluster token") == true, "\(String(describing: error))")
            // A peer that answers the challenge with a wrong HMAC is refused by the coordinator.
            let reply = try await offload {
                let connection = try RawTCPConnection(port: live.port)
                defer { connection.close() }
                try connection.send(#"{"type":"hello","v":2,"worker_id":"guess","version":"1","host":"h","cores":1,"instance":"i","nonce":"abcd"}"# + "\n")
                _ = try connection.readLine(timeout: .seconds(5))   // the challenge
                try connection.send(#"{"type":"auth","v":2,"hmac":"\#(String(repeating: "00", count: 32))"}"# + "\n")
                return try connection.readLine(timeout: .seconds(5))
            }
            #expect(reply?.contains("authentication failed") == true, "\(reply ?? "closed")")
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

        @Test("hello with protocol version 3 gets a reject naming the version, then the connection closes")
        func wrongProtocolVersion() async throws {
            let live = try await LiveCoordinator.start()
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let (reply, closed) = try await offload {
                let connection = try RawTCPConnection(port: live.port)
                defer { connection.close() }
                try connection.send(#"{"type":"hello","v":3,"worker_id":"future","version":"9.0.0","host":"h","cores":1}"# + "\n")
                return (try connection.readLine(timeout: .seconds(5)), connection.waitForClose(timeout: .seconds(5)))
            }
            let line = try #require(reply, "the coordinator closed without a reject line")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["type"] as? String == "reject")
            #expect(object["v"] as? Int == 2)
            let reason = try #require(object["reason"] as? String)
            #expect(reason.contains("protocol version 3 not supported"), "\(reason)")
            #expect(reason.contains("speaks 2"), "\(reason)")
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
                try connection.send(#"{"type":"hello","v":2,"worker_id":"taken","version":"0.1.0","host":"h","cores":1,"instance":"other-process","nonce":"abcd"}"# + "\n")
                var lines: [String] = []
                while let line = try connection.readLine(timeout: .seconds(5)) { lines.append(line) }
                return lines
            }
            #expect(lines.count == 1, "\(lines)")
            let object = try #require(try lines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect(object["type"] as? String == "reject")
            #expect(object["reason"] as? String == "duplicate worker id 'taken' (another process holds it)")
            #expect(await live.coordinator.liveWorkers == ["taken"])
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }

        @Test("another process with an id already connected is refused, and retries instead of exiting")
        func duplicateWorkerIdRetries() async throws {
            let live = try await LiveCoordinator.start()
            let first = TestWorkers.agent(port: live.port, id: "twin")
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await first.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))

            let second = TestWorkers.agent(port: live.port, id: "twin")   // its own instance: another process
            let exited = Mutex<String?>(nil)
            let secondRun = Task {
                do { try await second.run() } catch { exited.withLock { $0 = "\(error)" } }
                exited.withLock { $0 = $0 ?? "returned" }
            }
            // Refused at least twice: it came back after the first refusal.
            let refusedTwice = await waitUntil(timeout: .seconds(8)) { live.log.matching("duplicate worker id 'twin'").count >= 2 }
            #expect(refusedTwice, "\(live.log.transcript)")
            #expect(exited.withLock { $0 } == nil, "the second worker exited: \(exited.withLock { $0 } ?? "")")
            #expect(await live.coordinator.workerCount == 1)
            secondRun.cancel()
            await live.server.shutdown(quitWorkers: true)
            try await worker.value
        }
    }
}
