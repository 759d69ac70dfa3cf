import Foundation
import StampedeTestSupport
import Testing

/// `--csv` and `--html` of `stampede run` (and `--html` of `stampede sweep`) against `stampede mock`: the files are
/// checked against the `--json` results of the same run, and the charts against a headless Chromium screenshot.
@Suite("report files: Locust CSV and HTML", .serialized)
struct ReportOutputTests {
    /// Text that must come out escaped wherever it appears.
    static let hostileName = "<script>alert(\"x\")</script> & 'q' <img src=http://example.com/x.png>"
    static let secret = "sk-report-test-secret-0123456789"
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let chartIDs = ["chart-load", "chart-ttft", "chart-itl", "chart-e2e", "chart-tokens", "chart-errors", "chart-distribution"]

    /// A 2-stage run with 10% errors, writing JSON, CSV and HTML into `dir`.
    static func run(in dir: URL) async throws -> (json: String, csv: String, html: String, stdout: String) {
        let (mock, url) = try await startMock(["--ttft-ms", "40", "--itl-ms", "4", "--error-rate-500", "0.1"])
        defer { mock.kill() }
        let json = dir.appendingPathComponent("run.json").path
        let csv = dir.appendingPathComponent("out/run").path
        let html = dir.appendingPathComponent("run.html").path
        var environment = ProcessInfo.processInfo.environment
        environment["OPENAI_API_KEY"] = secret
        let run = try ChildProcess(["run", "--target", url, "--stages", "2u:3s,4u:3s", "--spawn-rate", "50", "--mean-output-tokens", "20",
                             "--stddev-output-tokens", "0", "--max-error-rate", "1", "--quiet", "--name", hostileName,
                             "--json", json, "--csv", csv, "--html", html], environment: environment)
        let status = await run.waitForExit(timeout: .seconds(90))
        #expect(status == 0, "stderr: \(run.stderr)")
        return (json, csv, html, run.stdout)
    }

    @Test(.timeLimit(.minutes(3)))
    func csvAndHTMLMatchTheJSONResults() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try await Self.run(in: dir)
        for suffix in ["_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"] {
            #expect(files.stdout.contains("wrote \(files.csv)\(suffix)"), "\(files.stdout)")
        }

        // CSV: Python's csv module reads the four files; columns and values agree with the JSON.
        let check = try python(Self.root.appendingPathComponent("scripts/report-check/check_csv.py").path, files.csv, files.json)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("csv-ok"), "\(check.output)")

        // HTML: self-contained, every chart present, stage boundaries marked, all text escaped, no secret.
        let html = try String(contentsOfFile: files.html, encoding: .utf8)
        for id in Self.chartIDs { #expect(html.contains("<svg class=\"chart\" id=\"\(id)\""), "chart \(id) missing") }
        #expect(html.contains("class=\"marker\""), "no stage boundary marked")
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"))
        #expect(!html.contains("<script"), "unescaped or inline script")
        #expect(!html.contains("<img"), "unescaped markup from the scenario name")
        #expect(Self.externalReferences(html).isEmpty, "external references: \(Self.externalReferences(html))")
        for path in [files.html, files.json, files.csv + "_stats.csv", files.csv + "_failures.csv"] {
            #expect(try !String(contentsOfFile: path, encoding: .utf8).contains(Self.secret), "API key in \(path)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func sweepCSVHasARowPerStep() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (mock, url) = try await startMock(["--ttft-ms", "20", "--itl-ms", "2"])
        defer { mock.kill() }
        let json = dir.appendingPathComponent("sweep.json").path
        let csv = dir.appendingPathComponent("sweep").path
        let sweep = try ChildProcess(["sweep", "--target", url, "--step-time", "1s", "--warmup", "0.5s", "--max-steps", "3", "--refinements", "0",
                                      "--mean-output-tokens", "16", "--quiet", "--json", json, "--csv", csv,
                                      "--saturation-cpu", "1024", "--saturation-lag-ms", "3600000"])
        let status = await sweep.waitForExit(timeout: .seconds(90))
        #expect(status == 0, "stderr: \(sweep.stderr)")
        for suffix in ["_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"] {
            #expect(sweep.stdout.contains("wrote \(csv)\(suffix)"), "\(sweep.stdout)")
        }
        let check = try python(Self.root.appendingPathComponent("scripts/report-check/check_sweep_csv.py").path, csv, json)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("sweep-csv-ok"), "\(check.output)")
    }

    /// The external-reference check itself flags what it must (so the test above can fail).
    @Test func externalReferenceCheckFindsReferences() {
        #expect(Self.externalReferences("<link href=\"https://cdn.example/x.css\">").count == 1)
        #expect(Self.externalReferences("<img src='http://x/y.png'>").count == 1)
        #expect(Self.externalReferences("<div style=\"background:url( https://x/y.png)\">").count == 1)
        #expect(Self.externalReferences("<use href=\"//x/y.svg#a\"/>").count == 1)
        #expect(Self.externalReferences("<g clip-path=\"url(#c)\"></g> target http://127.0.0.1:8000").isEmpty)
    }

    @Test(.timeLimit(.minutes(4)), .enabled(if: Chromium.path != nil, "chromium is not installed (scripts/install-test-deps.sh installs it)"))
    func chromiumScreenshotsShowEveryChart() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try await Self.run(in: dir)
        let script = Self.root.appendingPathComponent("scripts/report-check/chart_pixels.py").path
        let run = try python(script, files.html, dir.appendingPathComponent("shots-run").path, Chromium.path!)
        #expect(run.status == 0, "\(run.output)")
        for id in Self.chartIDs { #expect(run.output.contains("\(id): "), "\(run.output)") }
        #expect(run.output.contains("control control-chart-load: 0 coloured pixels"), "the blank control must fail: \(run.output)")

        let sweepHTML = dir.appendingPathComponent("sweep.html").path
        let (mock, url) = try await startMock(["--ttft-ms", "20", "--itl-ms", "2"])
        defer { mock.kill() }
        let sweep = try ChildProcess(["sweep", "--target", url, "--step-time", "1s", "--warmup", "0s", "--max-steps", "3", "--refinements", "0",
                               "--mean-output-tokens", "16", "--quiet", "--html", sweepHTML, "--name", Self.hostileName])
        let status = await sweep.waitForExit(timeout: .seconds(90))
        #expect(status == 0, "stderr: \(sweep.stderr)")
        let html = try String(contentsOfFile: sweepHTML, encoding: .utf8)
        #expect(Self.externalReferences(html).isEmpty)
        #expect(!html.contains("<script"))
        let shots = try python(script, sweepHTML, dir.appendingPathComponent("shots-sweep").path, Chromium.path!)
        #expect(shots.status == 0, "\(shots.output)")
        #expect(shots.output.contains("chart-sweep-rps: ") && shots.output.contains("chart-sweep-latency: "), "\(shots.output)")
    }

    /// Tags with a `src=` or `href=` (also `xlink:href=`) and CSS `url(…)` that leave the file: http(s) or
    /// protocol-relative. Escaped text (no `<`) is not a tag.
    static func externalReferences(_ html: String) -> [String] {
        let pattern = #"(?i)<[^>]*?\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^>]*>|url\(\s*["']?\s*(?:https?:)?//[^)]*\)"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return ["bad pattern"] }
        let range = NSRange(html.startIndex..., in: html)
        return regex.matches(in: html, range: range).compactMap { Range($0.range, in: html).map { String(html[$0]) } }
    }
}

enum Chromium {
    static var path: String? {
        for name in ["chromium", "chromium-browser"] {
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }
}

/// Runs a Python 3 script; returns its exit status and its stdout and stderr together.
func python(_ arguments: String...) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
