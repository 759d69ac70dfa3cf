import Foundation
import StampedeTestSupport
import Testing

/// A target that echoes the `Authorization` header back, in a different form on each request: raw,
/// JSON-escaped (`\/`, `\u002b`), cut at the excerpt limit, in error events and in a body that is not
/// a stream. No 8 characters of the key may reach stdout, stderr, --json, JSONL or the LLMPerf files.
@Suite("an echoed API key never reaches the outputs", .serialized)
struct SecretEchoTests {
    static let key = "sk-proj/Q1w2E3r4+T5y6U7i8/O9p0+Zz"

    /// The echo server, in Python (the CLI tests already use python3): it prints its port, then answers
    /// request n with form n mod 8.
    static let server = #"""
    import http.server, itertools, sys
    counter = itertools.count()
    class Echo(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def send(self, status, ctype, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            auth = self.headers.get("Authorization", "")
            esc = auth.replace("/", "\\/").replace("+", "\\u002b")
            form = next(counter) % 8
            if form == 0: self.send(401, "text/plain", "unauthorized: " + auth)
            elif form == 1: self.send(401, "application/json", '{"error":{"code":"bad_key","auth":"' + esc + '"}}')
            elif form == 2: self.send(500, "text/plain", "x" * 185 + " " + auth)
            elif form == 3: self.send(503, "text/plain", "y" * 190 + " " + esc)
            elif form == 4: self.send(200, "text/event-stream", 'data: {"error":{"message":"bad token ' + esc + '"}}\n\n')
            elif form == 5: self.send(200, "text/event-stream", 'data: {"error":{"type":"auth","seen":"' + esc + '"}}\n\n')
            elif form == 6: self.send(200, "text/event-stream", "data: not json " + auth + "\n\n")
            else: self.send(200, "application/json", '{"echo":"' + esc + '"}')
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    sys.stdout.write("port %d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever()
    """#

    @Test(.timeLimit(.minutes(2)))
    func echoedKeyIsRedactedEverywhere() async throws {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", Self.server]
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        // SIGKILL: a child of this process may inherit a mask that blocks SIGTERM.
        defer { if python.isRunning { kill(python.processIdentifier, SIGKILL) } }
        var line = ""
        while !line.contains("\n") {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }  // python exited
            line += String(decoding: data, as: UTF8.self)
        }
        let port = try #require(line.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "\(line)")

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let jsonl = dir.appendingPathComponent("r.jsonl").path
        let llmperf = dir.appendingPathComponent("llmperf").path
        var env = ProcessInfo.processInfo.environment
        env["STAMPEDE_TEST_KEY"] = Self.key
        let run = try ChildProcess(["run", "--target", "http://127.0.0.1:\(port)", "--api-key-env", "STAMPEDE_TEST_KEY", "--users", "1",
                             "--max-requests", "16", "--json", json, "--requests-jsonl", jsonl, "--llmperf-dir", llmperf,
                             "--log-level", "trace"], environment: env)
        let status = await run.waitForExit(timeout: .seconds(60))
        #expect(status == 1, "every request fails: \(run.stderr)")
        var outputs = [("stdout", run.stdout), ("stderr", run.stderr)]
        for path in [json, jsonl] { outputs.append((path, try String(contentsOfFile: path, encoding: .utf8))) }
        for file in try FileManager.default.contentsOfDirectory(atPath: llmperf) {
            outputs.append((file, try String(contentsOfFile: llmperf + "/" + file, encoding: .utf8)))
        }
        #expect(outputs.count == 6, "\(outputs.map(\.0))")
        let records = outputs[3].1.split(separator: "\n")
        #expect(records.count == 16)
        #expect(outputs[0].1.contains("***"), "the report shows the redacted messages: \(run.stdout)")
        for (name, text) in outputs {
            for reading in secretReadings(of: text) {
                let leaked = Self.runs.filter { reading.contains($0) }
                #expect(leaked.isEmpty, "\(name) holds \(leaked.first ?? ""): \(text.prefix(3000))")
            }
        }
    }

    /// Every run of 8 characters of the key.
    static let runs: [String] = {
        let characters = Array(key)
        return (0...(characters.count - 8)).map { String(characters[$0..<($0 + 8)]) }
    }()
}
