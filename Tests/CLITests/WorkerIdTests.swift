import Foundation
import StampedeTestSupport
import Testing

/// A worker's default id (no --name). Containers on the host network share the host's hostname,
/// and each container's first process is pid 1 of its own PID namespace, so "hostname-pid" was the
/// same for every replica and the second was refused as "duplicate worker id".
@Suite("worker ids", .serialized)
struct WorkerIdTests {
    @Test("two workers with the same hostname and pid (1, each in its own PID namespace) get distinct default ids",
          .timeLimit(.minutes(2)))
    func defaultIdsDifferWhenHostnameAndPidAreShared() async throws {
        guard geteuid() == 0, let unshare = DeployScript.find("unshare") else {
            print("WorkerIdTests: skipping: needs root and unshare (util-linux) for PID namespaces")
            try Test.cancel("needs root and unshare")
        }
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let (mock, url) = try await startMock(["--ttft-ms", "5", "--itl-ms", "1"])
        defer { mock.kill() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json").path
        let coordinator = try ChildProcess(["coordinator", "--bind", "127.0.0.1:0", "--expect-workers", "2", "--expect-workers-timeout", "30s",
                                     "--target", url, "--users", "2", "--spawn-rate", "10", "--run-time", "2s",
                                     "--mean-output-tokens", "10", "--json", json, "--quiet"])
        defer { coordinator.kill() }
        #expect(await coordinator.waitFor("listening on 127.0.0.1:", timeout: .seconds(20)), "\(coordinator.stderr)")
        let port = try #require(coordinator.stderr.split(separator: "listening on 127.0.0.1:").last?
            .prefix(while: { $0.isNumber }).description, "no port in: \(coordinator.stderr)")

        // Each worker is pid 1 in a PID namespace of its own; both have this machine's hostname.
        let worker = ["--pid", "--fork", "--kill-child", binary, "worker", "--coordinator", "127.0.0.1:\(port)",
                      "--max-connect-attempts", "5"]
        async let first = DeployScript.run(unshare, worker, timeout: .seconds(60))
        async let second = DeployScript.run(unshare, worker, timeout: .seconds(60))
        let runs = try await [first, second]
        let status = await coordinator.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "coordinator: \(coordinator.stderr)")

        let host = ProcessInfo.processInfo.hostName
        var ids: [String] = []
        for run in runs {
            #expect(run.status == 0, "\(run.output)")
            #expect(!run.stderr.contains("duplicate worker id"), "\(run.output)")
            let id = run.stderr.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: "joined coordinator 127.0.0.1:\(port) as ") else { return nil }
                return String(line[range.upperBound...].prefix(while: { !$0.isWhitespace }))
            }.first
            let joined = try #require(id, "the worker never joined: \(run.output)")
            // hostname-pid-xxxxxx, with the namespace's pid 1.
            #expect(joined.hasPrefix("\(host)-1-"), "\(joined)")
            #expect(joined.wholeMatch(of: /.+-1-[0-9a-f]{6}/) != nil, "\(joined)")
            ids.append(joined)
        }
        #expect(Set(ids).count == 2, "\(ids)")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let workers = try #require(report["workers"] as? [[String: Any]])
        #expect(Set(workers.compactMap { $0["id"] as? String }) == Set(ids), "\(workers)")
    }
}
