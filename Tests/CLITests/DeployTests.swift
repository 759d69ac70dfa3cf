import Foundation
import StampedeTestSupport
import Testing

/// The deployment scripts: the multi-host cluster in network namespaces, the check of the Docker,
/// compose and Kubernetes files, and the CI smoke test. Each runs the real script with bash.
@Suite("deployment scripts", .serialized)
struct DeployTests {
    // MARK: scripts/netns-cluster.sh

    @Test("netns-cluster.sh: two workers on their own hosts both serve requests", .timeLimit(.minutes(3)))
    func netnsClusterWithTwoWorkers() async throws {
        if let reason = DeployEnvironment.whyNoNetns { try skip(reason) }
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("netns.json").path
        let run = try await DeployScript.run("scripts/netns-cluster.sh",
                                             ["--workers", "2", "--run-time", "8s", "--json", json, "--bin", binary],
                                             timeout: .seconds(150))
        if run.status == 77 { try skip("netns-cluster.sh: \(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("Workers"), "the coordinator's report is printed: \(run.stdout)")
        #expect(run.stdout.contains("http://10.213.0.2:8000"), "the target is the mock's namespace address")
        // The run's token is 48 hex digits, made by the script; it must not appear anywhere.
        #expect(run.output.range(of: "[0-9a-f]{48}", options: .regularExpression) == nil, "a token-like string was printed")

        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let workers = try #require(report?["workers"] as? [[String: Any]], "no workers in \(json)")
        var requests: [String: Int] = [:]
        for worker in workers { requests[worker["id"] as? String ?? "?"] = worker["finished"] as? Int ?? 0 }
        print("netns-cluster: requests per worker \(requests.sorted { $0.key < $1.key })")
        #expect(Set(requests.keys) == ["w1", "w2"], "\(requests)")
        #expect((requests["w1"] ?? 0) > 0 && (requests["w2"] ?? 0) > 0, "both workers contributed: \(requests)")

        // Nothing is left behind: no namespace, no process of this run.
        let namespaces = try await DeployScript.run("/bin/sh", ["-c", "ip netns list"], timeout: .seconds(10))
        let pid = run.pid
        #expect(!namespaces.stdout.contains("stp-\(pid)-"), "left over: \(namespaces.stdout)")
    }

    @Test("netns-cluster.sh --partition: a worker cut off by iptables past the heartbeat timeout rejoins and serves again",
          .timeLimit(.minutes(3)))
    func netnsPartitionRejoin() async throws {
        if let reason = DeployEnvironment.whyNoNetns { try skip(reason) }
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("partition.json").path
        // Cut w1 off 3 s into the run for 6 s: past the 3 s heartbeat timeout on both sides.
        let run = try await DeployScript.run("scripts/netns-cluster.sh",
                                             ["--workers", "2", "--run-time", "22s", "--partition", "w1:3:6", "--json", json, "--bin", binary,
                                              "--", "--heartbeat-timeout", "3s", "--max-error-rate", "1"],
                                             timeout: .seconds(160))
        if run.status == 77 { try skip("netns-cluster.sh: \(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("partition healed"), "\(run.stderr)")
        #expect(run.stderr.contains("w1 was cut off for 6s and rejoined"), "\(run.stderr)")
        #expect(run.stderr.contains("as uid 65534"), "the processes ran as nobody: \(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let workers = try #require(report?["workers"] as? [[String: Any]])
        let w1 = try #require(workers.first { $0["id"] as? String == "w1" })
        #expect(w1["state"] as? String == "stopped" && (w1["users"] as? Int ?? 0) > 0, "\(w1)")
        // w1 ran users again after it rejoined: the late intervals carry all 8 users.
        let series = try #require(report?["time_series"] as? [[String: Any]])
        let late = series.filter { [18, 19].contains($0["interval"] as? Int ?? -1) }
        #expect(late.count == 2 && late.allSatisfy { $0["users"] as? Int == 8 }, "\(late)")
    }

    @Test("netns-cluster.sh: bad flags get usage and exit 2 (before anything is created)", .timeLimit(.minutes(1)))
    func netnsClusterRejectsBadFlags() async throws {
        for args in [["--workers", "0"], ["--workers", "x"], ["--bogus"], ["--run-time", "1y"], ["--workers"], ["--bin", "/nonexistent/stampede"],
                     ["--partition", "w9:1:1"], ["--partition", "w1:3"], ["--partition", "coord:1:1"]] {
            let run = try await DeployScript.run("scripts/netns-cluster.sh", args, timeout: .seconds(20))
            #expect(run.status == 2, "\(args): \(run.output)")
            #expect(run.stderr.contains("Usage: scripts/netns-cluster.sh"), "\(args): \(run.stderr)")
        }
        let help = try await DeployScript.run("scripts/netns-cluster.sh", ["--help"], timeout: .seconds(20))
        #expect(help.status == 0 && help.stdout.contains("--workers N"), "\(help.output)")
    }

    // MARK: scripts/check-deploy.sh

    @Test("check-deploy.sh: the Dockerfile, compose.yaml and the k8s manifests pass", .timeLimit(.minutes(3)))
    func checkDeployPasses() async throws {
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let run = try await DeployScript.run("scripts/check-deploy.sh", ["--bin", binary], timeout: .seconds(150))
        if run.status == 77 { try skip("check-deploy.sh: \(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains(" 0 failed"), "\(run.stdout)")
        for line in run.stdout.split(separator: "\n") where line.contains("requests per worker") || line.contains("skip ") {
            print("check-deploy: \(line.trimmingCharacters(in: .whitespaces))")
        }
    }

    @Test("check-deploy.sh: catches broken manifests", .timeLimit(.minutes(2)))
    func checkDeployCatchesMistakes() async throws {
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for item in ["compose.yaml", ".env.example", ".dockerignore", "Docker"] {
            try fm.copyItem(at: DeployScript.root.appendingPathComponent(item), to: dir.appendingPathComponent(item))
        }
        try edit(dir.appendingPathComponent("compose.yaml")) {
            $0.replacingOccurrences(of: #"command: ["worker", "--coordinator", "coordinator:5557"]"#,
                                    with: #"command: ["worker", "--coordinator", "coordinator:5557", "--bogus-flag"]"#)
              .replacingOccurrences(of: "      - ${RUN_TIME:-60s}", with: "      - ${RUN_TIME:-1y}")
              .replacingOccurrences(of: "  worker:\n    <<: *stampede\n", with: "  worker:\n    <<: *stampede\n    container_name: w\n")
        }
        try edit(dir.appendingPathComponent("Docker/k8s/workers.yaml")) {
            $0.replacingOccurrences(of: "replicas: 4", with: "replicas: 3")
        }
        try edit(dir.appendingPathComponent("Docker/k8s/target.yaml")) {
            $0.replacingOccurrences(of: "periodSeconds: 2", with: "periodSecond: 2")   // not a Kubernetes field
        }
        try edit(dir.appendingPathComponent("Docker/k8s/coordinator.yaml")) {
            $0.replacingOccurrences(of: "- http://stampede-target:8000", with: "- http://stampede-target:9000")
        }
        let run = try await DeployScript.run("scripts/check-deploy.sh", ["--bin", binary, "--static", "--root", dir.path],
                                             timeout: .seconds(90))
        if run.status == 77 { try skip("check-deploy.sh: \(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        #expect(run.status == 1, "\(run.output)")
        let failures = run.stdout.split(separator: "\n").filter { $0.contains("FAIL") }.joined(separator: "\n")
        #expect(failures.contains("unknown flag --bogus-flag"), "\(failures)")
        #expect(failures.contains("--run-time '1y' is not a duration"), "\(failures)")
        #expect(failures.contains("no container_name"), "\(failures)")
        #expect(failures.contains("--expect-workers equals the workers' replicas"), "\(failures)")
        #expect(failures.contains("--target is the target Service and port"), "\(failures)")
        if !run.stdout.contains("skip the Kubernetes schemas") {
            #expect(failures.contains("follow the Kubernetes schemas") && failures.contains("periodSecond"), "\(failures)")
        }
    }

    // MARK: scripts/ci-smoke.sh

    @Test("ci-smoke.sh: one worker against the mock passes the error-rate gate", .timeLimit(.minutes(2)))
    func ciSmokePasses() async throws {
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let run = try await DeployScript.run("scripts/ci-smoke.sh", ["--bin", binary, "--run-time", "5s"], timeout: .seconds(90))
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("ci-smoke-w1"), "the report's Workers table: \(run.stdout)")
        #expect(run.stderr.contains("PASS"), "\(run.stderr)")
    }

    @Test("ci-smoke.sh: a failing target fails the gate and prints the report and the logs", .timeLimit(.minutes(2)))
    func ciSmokeFailsTheGate() async throws {
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let run = try await DeployScript.run("scripts/ci-smoke.sh",
                                             ["--bin", binary, "--run-time", "2s", "--target", "http://127.0.0.1:9"],
                                             timeout: .seconds(60))
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stdout.contains("error rate 100.00%"), "\(run.stdout)")
        #expect(run.stderr.contains("FAIL") && run.stderr.contains("----- worker.log"), "\(run.stderr)")
    }

    @Test("ci-smoke.sh: bad flags get usage and exit 2", .timeLimit(.minutes(1)))
    func ciSmokeRejectsBadFlags() async throws {
        for args in [["--nope"], ["--max-error-rate", "2"], ["--users", "0"], ["--run-time", "soon"], ["--target", "ftp://x"],
                     ["--bin", "/nonexistent/stampede"]] {
            let run = try await DeployScript.run("scripts/ci-smoke.sh", args, timeout: .seconds(20))
            #expect(run.status == 2, "\(args): \(run.output)")
            #expect(run.stderr.contains("Usage: scripts/ci-smoke.sh"), "\(args): \(run.stderr)")
        }
    }

    // MARK: helpers

    private func skip(_ reason: String) throws -> Never {
        print("DeployTests: skipping: \(reason)")
        try Test.cancel(Comment(rawValue: reason))
    }

    private func edit(_ url: URL, _ change: (String) -> String) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let changed = change(text)
        #expect(changed != text, "the test's edit of \(url.lastPathComponent) matched nothing")
        try changed.write(to: url, atomically: true, encoding: .utf8)
    }
}

/// What this machine offers the namespace test.
enum DeployEnvironment {
    /// Why network namespaces cannot be used here, or nil when they can (root and `ip`).
    static var whyNoNetns: String? {
        if geteuid() != 0 { return "netns-cluster.sh needs root to create network namespaces" }
        if DeployScript.find("ip") == nil { return "netns-cluster.sh needs the `ip` command (iproute2)" }
        return nil
    }
}

/// The outcome of one script run.
struct DeployScriptResult {
    let status: Int32?
    let stdout: String
    let stderr: String
    let pid: Int32
    var output: String { "exit \(status.map(String.init) ?? "timeout")\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs a repository script (with bash) or a command, its output captured in files.
enum DeployScript {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `tool` on PATH or in the sbin folders, where `ip` lives.
    static func find(_ tool: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (path + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]).map { "\($0)/\(tool)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `script` (a path relative to the repository, run with bash, or an absolute executable).
    /// On timeout the script gets SIGTERM (its trap cleans up), then SIGKILL 15 s later.
    static func run(_ script: String, _ arguments: [String], timeout: Duration) async throws -> DeployScriptResult {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout")
        let errURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        if script.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: script)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: find("bash") ?? "/bin/bash")
            process.arguments = [root.appendingPathComponent(script).path] + arguments
        }
        process.currentDirectoryURL = root
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"].map { $0 + ":" } ?? "") + "/usr/sbin:/sbin"
        process.environment = environment
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGTERM)
                let hard = ContinuousClock.now + .seconds(15)
                while process.isRunning, ContinuousClock.now < hard { try? await Task.sleep(for: .milliseconds(100)) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return DeployScriptResult(status: timedOut ? nil : process.terminationStatus, stdout: stdout, stderr: stderr,
                                  pid: process.processIdentifier)
    }
}
