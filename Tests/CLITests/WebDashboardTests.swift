import Foundation
import StampedeTestSupport
import Testing

/// `--web` of `stampede run` and `coordinator` against `stampede mock`: /metrics checked against the JSON
/// results with Python's prometheus_client parser, the token and cross-site checks, and a real browser.
@Suite("web dashboard and /metrics", .serialized, .enabled(if: StampedeBinary.isAvailable))
struct WebDashboardTests {
    static let root = ReportOutputTests.root
    static let token = "web-test-token-0123456789abcdef"

    /// The `dashboard at http://…/` URL a child printed (without the final slash).
    static func dashboardURL(_ child: ChildProcess) async -> String? {
        guard let line = await child.waitForLine(timeout: .seconds(60), where: { $0.contains("dashboard at http://") }) else { return nil }
        guard let start = line.text.range(of: "http://") else { return nil }
        var url = String(line.text[start.lowerBound...]).trimmingCharacters(in: .whitespaces)
        if url.hasSuffix("/") { url.removeLast() }
        return url
    }

    @Test(.timeLimit(.minutes(3)))
    func metricsMatchTheJSONResults() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (mock, url) = try await startMock(["--ttft-ms", "30", "--itl-ms", "3", "--error-rate-500", "0.1"])
        defer { mock.kill() }
        let json = dir.appendingPathComponent("run.json").path
        let run = try ChildProcess(["run", "--target", url, "--users", "4", "--spawn-rate", "50", "--max-requests", "80",
                                    "--mean-output-tokens", "12", "--stddev-output-tokens", "0", "--max-error-rate", "1", "--quiet",
                                    "--json", json, "--web", "127.0.0.1:0", "--web-linger", "60s"])
        defer { run.kill() }
        let base = try #require(await Self.dashboardURL(run), "no dashboard line: \(run.transcript)")
        #expect(await run.waitFor("dashboard still at", timeout: .seconds(90)), "\(run.transcript)")
        let check = try python(Self.root.appendingPathComponent("scripts/web-check/check_metrics.py").path, base, json)
        if check.status == 3 {
            print("skipping the /metrics parse: \(check.output)")
        } else {
            #expect(check.status == 0, "\(check.output)")
            #expect(check.output.contains("metrics-ok"), "\(check.output)")
        }
        // Ctrl-C ends the linger; the exit code is the run's (0), not 130.
        run.kill(SIGINT)
        #expect(await run.waitForExit(timeout: .seconds(20)) == 0, "\(run.transcript)")
    }

    @Test(.timeLimit(.minutes(3)))
    func tokenRequiredAndCrossSiteRefused() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenFile = dir.appendingPathComponent("token").path
        try Self.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let (mock, url) = try await startMock(["--ttft-ms", "20", "--itl-ms", "2"])
        defer { mock.kill() }
        // 127.0.0.2 is loopback too; --web-require-token forces the off-loopback rules on it.
        let run = try ChildProcess(["run", "--target", url, "--users", "2", "--run-time", "60s", "--quiet", "--token-file", tokenFile,
                                    "--web", "127.0.0.2:0", "--web-require-token", "--web-linger", "0s"])
        defer { run.kill() }
        let base = try #require(await Self.dashboardURL(run), "no dashboard line: \(run.transcript)")
        let check = try python(Self.root.appendingPathComponent("scripts/web-check/check_access.py").path, base, tokenFile)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("access-ok"), "\(check.output)")
        run.kill(SIGINT)
        _ = await run.waitForExit(timeout: .seconds(20))
        #expect(!run.transcript.contains(Self.token), "the token is in the output")
    }

    @Test(.timeLimit(.minutes(1)))
    func offLoopbackWithoutATokenIsRefused() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["STAMPEDE_TOKEN"] = nil
        let run = try ChildProcess(["run", "--users", "1", "--run-time", "2s", "--web", "0.0.0.0:0"], environment: environment)
        defer { run.kill() }
        let status = await run.waitForExit(timeout: .seconds(30))
        #expect(status != 0)
        #expect(run.stderr.contains("needs the cluster token"), "\(run.stderr)")
        #expect(!run.stderr.contains("dashboard at"), "\(run.stderr)")
    }

    @Test(.timeLimit(.minutes(1)))
    func badWebAddressIsRefused() async throws {
        let run = try ChildProcess(["run", "--users", "1", "--run-time", "2s", "--web", "127.0.0.1:70000"])
        defer { run.kill() }
        #expect(await run.waitForExit(timeout: .seconds(30)) != 0)
        #expect(run.stderr.contains("--web: '127.0.0.1:70000' is not PORT or HOST:PORT"), "\(run.stderr)")
    }

    static var chromedriver: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(dir)/chromedriver"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A person's session in headless Chromium (Selenium): `coordinator --web` waits for a start; the page starts
    /// 2 users, sees the numbers move, changes to 4 users (a new stage), stops, and downloads the files.
    @Test(.timeLimit(.minutes(4)),
          .enabled(if: Chromium.path != nil && Self.chromedriver != nil, "chromium or chromium-driver is missing (scripts/install-test-deps.sh)"))
    func browserStartsChangesStopsAndDownloads() async throws {
        let binary = try #require(StampedeBinary.path, "the stampede binary is not built")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (mock, url) = try await startMock(["--ttft-ms", "30", "--itl-ms", "5"])
        defer { mock.kill() }
        let coordinator = try ChildProcess(["coordinator", "--bind", "127.0.0.1:0", "--target", url, "--run-time", "120s",
                                            "--mean-output-tokens", "10", "--quiet", "--web", "127.0.0.1:0", "--web-linger", "60s"])
        defer { coordinator.kill() }
        #expect(await coordinator.waitFor("listening on 127.0.0.1:", timeout: .seconds(20)), "\(coordinator.stderr)")
        let port = try #require(coordinator.stderr.split(separator: "listening on 127.0.0.1:").last?
            .prefix(while: { $0.isNumber }).description, "no port in: \(coordinator.stderr)")
        let worker = try ChildProcess(["worker", "--coordinator", "127.0.0.1:\(port)", "--max-connect-attempts", "5"])
        defer { worker.kill() }
        _ = binary
        let base = try #require(await Self.dashboardURL(coordinator), "no dashboard line: \(coordinator.transcript)")
        #expect(await coordinator.waitFor("waiting for a start from the dashboard", timeout: .seconds(30)), "\(coordinator.transcript)")
        let out = dir.appendingPathComponent("browser").path
        let check = try python(Self.root.appendingPathComponent("scripts/web-check/browser_check.py").path, base, out,
                               Self.chromedriver!, Chromium.path!)
        if check.status == 3 {
            print("skipping the browser test: \(check.output)")
            return
        }
        #expect(check.status == 0, "\(check.output)\n\(coordinator.transcript)")
        #expect(check.output.contains("browser-ok"), "\(check.output)")
        coordinator.kill(SIGINT)
        #expect(await coordinator.waitForExit(timeout: .seconds(30)) == 0, "\(coordinator.transcript)")
    }
}
