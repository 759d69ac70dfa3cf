import Foundation
import StampedeMock
import StampedeTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ClusterSuite {
    /// Black-box runs of `stampede mock`, `coordinator` and `worker` processes, killed with SIGKILL.
    @Suite("Cluster processes", .enabled("the stampede binary is built") { StampedeBinary.isAvailable })
    struct SubprocessClusterTests {
        @Test("a worker SIGKILLed mid-run is reported lost and its users go to the other worker")
        func workerKilled() async throws {
            let children = Children()
            defer { children.killAll() }
            let (_, mockPort) = try await children.launchMock(["--ttft-ms", "20", "--itl-ms", "5"])
            let port = try freeLoopbackPort()
            let json = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-cluster-\(UUID().uuidString).json").path
            defer { try? FileManager.default.removeItem(atPath: json) }
            let heartbeatTimeout: Duration = .seconds(2)

            let coordinator = try children.launch("coordinator", [
                "coordinator", "--bind", "127.0.0.1:\(port)", "--expect-workers", "2", "--heartbeat-timeout", "2s",
                "--users", "4", "--spawn-rate", "100", "--run-time", "8s", "--target", "http://127.0.0.1:\(mockPort)",
                "--mean-output-tokens", "20", "--stddev-output-tokens", "0", "--json", json, "--log-level", "info",
                "--max-error-rate", "1",
            ])
            try #require(await coordinator.waitForLine(timeout: .seconds(10)) { $0.contains("coordinator listening on") } != nil,
                         "\(coordinator.transcript)")
            try children.launch("wA", ["worker", "--coordinator", "127.0.0.1:\(port)", "--name", "wA"])
            let wB = try children.launch("wB", ["worker", "--coordinator", "127.0.0.1:\(port)", "--name", "wB"])
            let bothJoined = await waitUntil(timeout: .seconds(10)) {
                coordinator.count { $0.contains("worker joined") } >= 2
            }
            try #require(bothJoined, "\(children.transcript)")
            // The run starts as soon as both joined; let both run for about 3 s.
            try await Task.sleep(for: .seconds(3))
            let killedAt = ContinuousClock.now
            wB.kill()

            let exit = await coordinator.waitForExit(timeout: .seconds(15))
            #expect(exit == 0, "coordinator exit \(String(describing: exit))\n\(children.transcript)")

            // The coordinator noticed within the heartbeat timeout (a killed process's socket closes at once).
            let lost = coordinator.firstLine { $0.contains("worker lost") && $0.contains("wB") }
            let lostLine = try #require(lost, "no 'worker lost' for wB\n\(coordinator.transcript)")
            #expect(killedAt.duration(to: lostLine.at) < heartbeatTimeout + .seconds(1), "lost after \(killedAt.duration(to: lostLine.at))")
            #expect(coordinator.firstLine { $0.contains("worker lost") && $0.contains("wA") } == nil, "\(coordinator.transcript)")

            // The JSON report: wB lost with the requests it finished kept; wA ended with all 4 users.
            let data = try Data(contentsOf: URL(fileURLWithPath: json))
            let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let workers = try #require(report["workers"] as? [[String: Any]], "no workers array")
            let a = try #require(workers.first { $0["id"] as? String == "wA" }, "\(workers)")
            let b = try #require(workers.first { $0["id"] as? String == "wB" }, "\(workers)")
            #expect(b["state"] as? String == "lost")
            #expect((b["finished"] as? Int ?? 0) > 0)
            #expect(a["state"] as? String == "stopped")
            // `users` is the last share assigned: all 4 went to wA when wB was lost.
            #expect(a["users"] as? Int == 4)
            #expect((a["finished"] as? Int ?? 0) > (b["finished"] as? Int ?? 0))
            let overall = try #require(report["overall"] as? [String: Any])
            #expect(overall["requests_finished"] as? Int == (a["finished"] as? Int ?? -1) + (b["finished"] as? Int ?? -1))

            // And wA really ran them: in the time series `users` is the sum of what the workers reported running.
            // Before the kill that is 2 + 2; in whole intervals well after it only wA reports, and it must report 4
            // (2 if the users had not been reassigned). The kill was about 3 s into the run; intervals 5 and 6
            // (5 s to 7 s) are past it with margin, and before the final cut of an 8 s run.
            let series = try #require(report["time_series"] as? [[String: Any]], "no time_series")
            let late = series.filter { [5, 6].contains($0["interval"] as? Int ?? -1) }
            #expect(late.count == 2, "\(series)")
            for point in late {
                #expect(point["users"] as? Int == 4, "interval \(point["interval"] ?? "?"): \(point)")
                #expect((point["finished"] as? Int ?? 0) > 0)
            }
        }

        @Test("a SIGKILLed coordinator: its worker stops all load at once and waits to reconnect")
        func coordinatorKilled() async throws {
            let children = Children()
            defer { children.killAll() }
            let (_, mockPort) = try await children.launchMock(["--ttft-ms", "50", "--itl-ms", "20"])
            let port = try freeLoopbackPort()
            let coordinator = try children.launch("coordinator", [
                "coordinator", "--bind", "127.0.0.1:\(port)", "--expect-workers", "1", "--run-time", "60s",
                "--users", "4", "--spawn-rate", "100", "--target", "http://127.0.0.1:\(mockPort)",
                "--mean-output-tokens", "20", "--stddev-output-tokens", "0", "--log-level", "info",
            ])
            try #require(await coordinator.waitForLine(timeout: .seconds(10)) { $0.contains("coordinator listening on") } != nil,
                         "\(coordinator.transcript)")
            let worker = try children.launch("worker", ["worker", "--coordinator", "127.0.0.1:\(port)", "--name", "w1"])

            // Load is flowing, then about 2 s of it.
            let loaded = await waitUntil(timeout: .seconds(10), poll: .milliseconds(100)) {
                ((try? await fetchMockStats(port: mockPort))?.requestsReceived ?? 0) > 0
            }
            try #require(loaded, "no load reached the mock\n\(children.transcript)")
            try await Task.sleep(for: .seconds(2))
            let during = try await fetchMockStats(port: mockPort)
            #expect(during.activeStreams > 0, "\(during)")
            coordinator.kill()

            try await Task.sleep(for: .seconds(3))
            let first = try await fetchMockStats(port: mockPort)
            try await Task.sleep(for: .seconds(2))
            let second = try await fetchMockStats(port: mockPort)
            #expect(first.requestsReceived > 0)
            #expect(second.requestsReceived == first.requestsReceived,
                    "load went on without a coordinator: \(first.requestsReceived) -> \(second.requestsReceived)\n\(worker.transcript)")
            #expect(first.activeStreams == 0, "\(first)")
            #expect(second.activeStreams == 0, "\(second)")

            // The worker did not exit: it stopped its load and keeps trying to reconnect.
            #expect(worker.isRunning, "\(worker.transcript)")
            #expect(worker.firstLine { $0.contains("lost the coordinator") || $0.contains("connection to coordinator ended") } != nil,
                    "\(worker.transcript)")
            worker.kill()
            #expect(await worker.waitForExit(timeout: .seconds(5)) != nil)
        }
    }
}
