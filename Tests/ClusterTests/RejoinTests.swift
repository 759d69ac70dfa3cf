import Foundation
import StampedeTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ClusterSuite {
    /// Workers that go away for a while and come back (SIGSTOP/SIGCONT), as processes, run as
    /// `nobody` when the suite runs as root.
    @Suite("Rejoin", .enabled("the stampede binary is built") { StampedeBinary.isAvailable })
    struct RejoinTests {
        static func startCluster(_ children: Children, heartbeatTimeout: String, runTime: String) async throws
            -> (coordinator: ChildProcess, a: ChildProcess, b: ChildProcess, json: String) {
            let (_, mockPort) = try await children.launchMock(["--ttft-ms", "20", "--itl-ms", "5"])
            let port = try freeLoopbackPort()
            let json = "/tmp/stampede-rejoin-\(UUID().uuidString).json"
            let coordinator = try children.launch("coordinator", [
                "coordinator", "--bind", "127.0.0.1:\(port)", "--expect-workers", "2", "--heartbeat-timeout", heartbeatTimeout,
                "--users", "4", "--spawn-rate", "100", "--run-time", runTime, "--target", "http://127.0.0.1:\(mockPort)",
                "--mean-output-tokens", "20", "--stddev-output-tokens", "0", "--json", json, "--log-level", "info", "--max-error-rate", "1",
            ])
            try #require(await coordinator.waitForLine(timeout: .seconds(10)) { $0.contains("coordinator listening on") } != nil,
                         "\(coordinator.transcript)")
            let a = try children.launch("wA", ["worker", "--coordinator", "127.0.0.1:\(port)", "--name", "wA"])
            let b = try children.launch("wB", ["worker", "--coordinator", "127.0.0.1:\(port)", "--name", "wB"])
            try #require(await waitUntil(timeout: .seconds(10)) { coordinator.count { $0.contains("worker joined") } >= 2 }, "\(children.transcript)")
            return (coordinator, a, b, json)
        }

        static func report(_ path: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        }

        @Test("a worker frozen past the heartbeat timeout comes back, gets a share again, and is counted once")
        func frozenWorkerRejoins() async throws {
            let children = Children()
            defer { children.killAll() }
            let (coordinator, _, b, json) = try await Self.startCluster(children, heartbeatTimeout: "2s", runTime: "12s")
            defer { try? FileManager.default.removeItem(atPath: json) }
            try await Task.sleep(for: .seconds(2))
            b.kill(SIGSTOP)
            try #require(await coordinator.waitForLine(timeout: .seconds(6)) { $0.contains("worker lost") && $0.contains("wB") } != nil,
                         "\(coordinator.transcript)")
            b.kill(SIGCONT)
            let rejoined = await coordinator.waitForLine(timeout: .seconds(8)) { $0.contains("rejoined") && $0.contains("wB") }
            #expect(rejoined != nil, "\(children.transcript)")
            #expect(await coordinator.waitForExit(timeout: .seconds(25)) == 0, "\(children.transcript)")

            let report = try Self.report(json)
            let workers = try #require(report["workers"] as? [[String: Any]])
            #expect(workers.filter { $0["id"] as? String == "wB" }.count == 1, "\(workers)")
            let wB = try #require(workers.first { $0["id"] as? String == "wB" })
            #expect(wB["state"] as? String == "stopped", "\(wB)")
            #expect(wB["users"] as? Int == 2, "wB has no share after it came back: \(wB)")
            let finished = workers.reduce(0) { $0 + ($1["finished"] as? Int ?? 0) }
            let overall = try #require(report["overall"] as? [String: Any])
            #expect(overall["requests_finished"] as? Int == finished, "counted twice or lost: \(workers) vs \(overall)")
            // After the rejoin both workers run users again: the last full intervals have 4.
            let series = try #require(report["time_series"] as? [[String: Any]])
            let late = series.filter { [9, 10].contains($0["interval"] as? Int ?? -1) }
            #expect(late.count == 2 && late.allSatisfy { $0["users"] as? Int == 4 }, "\(late)")
        }

        @Test("pauses shorter than the heartbeat timeout, of a worker or of the coordinator, lose no worker")
        func shortPausesLoseNothing() async throws {
            let children = Children()
            defer { children.killAll() }
            let (coordinator, _, b, json) = try await Self.startCluster(children, heartbeatTimeout: "4s", runTime: "10s")
            defer { try? FileManager.default.removeItem(atPath: json) }
            try await Task.sleep(for: .seconds(1))
            coordinator.kill(SIGSTOP)
            try await Task.sleep(for: .milliseconds(3200))
            coordinator.kill(SIGCONT)
            try await Task.sleep(for: .seconds(1))
            b.kill(SIGSTOP)
            try await Task.sleep(for: .milliseconds(3000))
            b.kill(SIGCONT)
            #expect(await coordinator.waitForExit(timeout: .seconds(25)) == 0, "\(children.transcript)")
            #expect(coordinator.firstLine { $0.contains("worker lost") } == nil, "\(coordinator.transcript)")
            let report = try Self.report(json)
            #expect(report["stop_reason"] as? String == "run_time", "\(report["stop_reason"] ?? "?")")
        }
    }
}
