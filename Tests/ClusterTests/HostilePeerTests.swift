import Foundation
import Logging
@testable import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeMock
import StampedeTestSupport
import Synchronization
import Testing

/// Resident memory of this process, bytes (Linux /proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

extension ClusterSuite {
    /// Peers that lie: a coordinator that never proves the token, unauthenticated floods, and
    /// authenticated workers with impossible numbers. Nothing crashes, nothing leaks.
    @Suite("Hostile peers")
    struct HostilePeerTests {
        static let token = "tok-3f9a1c77e2b4-SECRET"

        /// Plays a coordinator that skips the challenge (or forges it) and asks for load on `target`
        /// with the cluster token's variable as the API key. Returns every line the worker sent.
        static func rogueCoordinator(_ listener: RawTCPListener, target: String, forgeChallenge: Bool) throws -> [String] {
            let connection = try listener.accept(timeout: .seconds(10))
            defer { connection.close() }
            var lines: [String] = []
            guard let hello = try connection.readLine(timeout: .seconds(5)) else { return lines }
            lines.append(hello)
            if forgeChallenge {
                let proof = String(repeating: "7e", count: 32)
                try connection.send(#"{"type":"challenge","v":2,"nonce":"\#(String(repeating: "ab", count: 32))","proof":"\#(proof)"}"# + "\n")
            }
            try connection.send(String(decoding: WireCodec.encode(.welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 1)).readableBytesView, as: UTF8.self))
            var scenario = Fixtures.scenario
            scenario.target = target
            scenario.apiKeyEnv = "STAMPEDE_TOKEN"
            let start = ClusterMessage.start(assignment: WorkerAssignment(runId: "rogue", generation: 1, scenario: scenario,
                                                                          share: WorkerShare(users: 2, spawnRate: 100)), epochNs: 1)
            try connection.send(String(decoding: WireCodec.encode(start).readableBytesView, as: UTF8.self))
            while let line = try? connection.readLine(timeout: .seconds(3)) { lines.append(line) }
            return lines
        }

        @Test("a worker with a token refuses a coordinator that cannot prove it: no request, no secret", arguments: [false, true])
        func rogueCoordinator(forgeChallenge: Bool) async throws {
            let mock = try await MockServer.start(config: MockConfig(timing: .fixed(ttft: .milliseconds(5), itl: .milliseconds(1))))
            defer { Task { await mock.stop() } }
            let listener = try RawTCPListener()
            let executorMade = Atomic<Bool>(false)
            let log = LogCapture()
            let agent = TestWorkers.agent(port: listener.port, id: "w1", token: Self.token, log: log) { scenario in
                executorMade.store(true, ordering: .relaxed)
                return TestWorkers.streamingExecutor(scenario)
            }
            let target = mock.baseURL
            let fake = Task { try await offload { try Self.rogueCoordinator(listener, target: target, forgeChallenge: forgeChallenge) } }
            let error = await #expect(throws: WorkerAgentError.self) {
                try await withTimeout(.seconds(15), "worker run") { try await agent.run() }
            }
            #expect(error?.description.contains("did not prove") == true, "\(String(describing: error))")
            let sent = try await fake.value
            #expect(sent.count == 1, "the worker sent more than its hello: \(sent)")   // no auth, no pong, no stats
            let madeExecutor = executorMade.load(ordering: .relaxed)
            #expect(!madeExecutor, "the worker built an executor for the rogue's run")
            #expect(await mock.stats().requestsReceived == 0)
            // No part of the token (8 characters or more) in anything the worker sent or logged.
            let everything = sent.joined(separator: "\n") + log.transcript
            for start in 0...(Self.token.count - 8) {
                let part = String(Self.token.dropFirst(start).prefix(8))
                #expect(!everything.contains(part), "'\(part)' leaked")
            }
        }

        @Test("an authenticated worker's impossible numbers close its connection; the coordinator stays up")
        func authenticatedOverflow() async throws {
            let live = try await LiveCoordinator.start()
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            @Sendable func join(_ id: String) throws -> RawTCPConnection {
                let connection = try RawTCPConnection(port: live.port)
                try connection.send(String(decoding: WireCodec.encode(.hello(workerId: id, version: "x", host: "h", cores: 1, instance: "i-\(id)",
                                                                             nonce: "abcd")).readableBytesView, as: UTF8.self))
                _ = try connection.readLine(timeout: .seconds(5))   // welcome
                return connection
            }
            // Two deltas of the largest allowed counts, then one past them: no trap, the last one refused.
            let big = statsDelta(worker: "liar", seq: 0, finished: Counters.maxPeerCount)
            let bigger = statsDelta(worker: "liar", seq: 1, finished: Counters.maxPeerCount)
            let closed = try await offload {
                let connection = try join("liar")
                defer { connection.close() }
                try connection.send(big + "\n" + bigger + "\n")
                try connection.send(overflowStatsLine(worker: "liar", seq: 2) + "\n")
                return connection.waitForClose(timeout: .seconds(5))
            }
            #expect(closed)
            #expect(await waitUntil(timeout: .seconds(3)) { !live.log.matching("closing connection", "liar", "counter above").isEmpty }, "\(live.log.transcript)")
            // The coordinator still serves: another worker joins.
            let agent = TestWorkers.agent(port: live.port, id: "honest")
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await agent.run() } }
            defer { worker.cancel() }
            #expect(await waitUntil(timeout: .seconds(10)) { await live.coordinator.liveWorkers.contains("honest") })
        }

        func statsDelta(worker: String, seq: UInt64, finished: Int) -> String {
            var set = MetricSet()
            set.counters.finished = finished
            set.counters.succeeded = finished
            let delta = IntervalDelta(worker: worker, seq: seq, interval: 0, startNs: 0, endNs: 1_000_000_000, users: 1, inFlight: 0, stages: [0: set])
            let line = try! WireCodec.encode(.stats(delta))
            return String(decoding: line.readableBytesView.dropLast(), as: UTF8.self)
        }

        @Test("100 unauthenticated peers sending 4 MiB lines cannot grow the coordinator's memory")
        func unauthenticatedFlood() async throws {
            let live = try await LiveCoordinator.start(token: Self.token)
            defer { Task { await live.server.shutdown(quitWorkers: true) } }
            let before = residentBytes()
            let chunk = String(repeating: "x", count: 64 * 1024)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in 0..<4 {
                    group.addTask {
                        try await offload {
                            for _ in 0..<25 {
                                guard let connection = try? RawTCPConnection(port: live.port) else { continue }
                                defer { connection.close() }
                                // 4 MiB with no newline; the coordinator closes the connection after 16 KiB.
                                for _ in 0..<64 { if (try? connection.send(chunk)) == nil { break } }
                                _ = batch
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let grown = residentBytes() - before
            #expect(grown < 48 * 1024 * 1024, "RSS grew by \(grown / 1024 / 1024) MiB")
            // Still serving: an honest worker joins.
            let agent = TestWorkers.agent(port: live.port, id: "after-flood", token: Self.token)
            let worker = Task { try await withTimeout(.seconds(20), "worker run") { try await agent.run() } }
            defer { worker.cancel() }
            #expect(await live.waitForWorkers(1))
        }
    }
}
