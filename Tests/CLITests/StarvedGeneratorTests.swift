import Foundation
import StampedeTestSupport
import Testing

/// A real CPU quota: `stampede run` in a cgroup limited to 0.1 cores is flagged as saturated, and
/// `--fail-on-saturation` turns that into exit code 1. Needs root and a writable cgroup CPU
/// controller (v2 `cpu.max` or v1 `cpu.cfs_quota_us`); skipped elsewhere. A run with headroom is
/// checked with a fake CPU source in EngineTests (a loaded test machine cannot promise headroom).
@Suite("Generator self-check under a cgroup CPU quota", .serialized)
struct StarvedGeneratorTests {
    /// A fresh cgroup limited to `cores`, and the file a process joins it through; nil when none can be made.
    static func makeCgroup(cores: Double) -> (directory: String, procs: String)? {
        guard getuid() == 0 else { return nil }
        let name = "stampede-test-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        let quota = Int(cores * 100_000)
        if let controllers = try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8), controllers.contains("cpu") {
            let directory = "/sys/fs/cgroup/\(name)"
            if (try? fm.createDirectory(atPath: directory, withIntermediateDirectories: false)) != nil,
               (try? "\(quota) 100000".write(toFile: directory + "/cpu.max", atomically: false, encoding: .utf8)) != nil {
                return (directory, directory + "/cgroup.procs")
            }
            try? fm.removeItem(atPath: directory)
        }
        for mount in ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"] where fm.fileExists(atPath: mount + "/cpu.cfs_quota_us") {
            let directory = "\(mount)/\(name)"
            if (try? fm.createDirectory(atPath: directory, withIntermediateDirectories: false)) != nil,
               (try? "\(quota)".write(toFile: directory + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)) != nil {
                return (directory, directory + "/cgroup.procs")
            }
            try? fm.removeItem(atPath: directory)
        }
        return nil
    }

    @Test("a run starved by a 0.1-core quota says its generator was saturated, and fails with --fail-on-saturation",
          .timeLimit(.minutes(2)))
    func starvedRunIsFlagged() async throws {
        let binary = try #require(StampedeBinary.path, "stampede binary not built; run `swift build` first")
        guard let cgroup = Self.makeCgroup(cores: 0.1) else {
            print("skipped: needs root and a writable cgroup CPU controller")
            return
        }
        defer { rmdir(cgroup.directory) }
        let (mock, url) = try await startMock(["--ttft-ms", "5", "--itl-ms", "1"])
        defer { mock.kill() }
        let dir = try temporaryDirectory()
        let json = dir.appendingPathComponent("run.json").path
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The shell joins the cgroup, then becomes `stampede run`: only the generator is starved, not the mock.
        run.arguments = ["-c", "echo $$ > \"$1\" && shift && exec \"$@\"", "sh", cgroup.procs, binary, "run", "--target", url,
                         "--users", "16", "--spawn-rate", "100", "--run-time", "4s", "--quiet", "--json", json, "--fail-on-saturation"]
        let output = Pipe()
        run.standardOutput = output
        run.standardError = output
        try run.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 1, "\(text)")
        #expect(text.contains("load generator was saturated"), "\(text)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let generator = try #require(result["generator"] as? [String: Any], "\(result.keys)")
        #expect(generator["saturated"] as? Bool == true)
        let worker = try #require((generator["workers"] as? [[String: Any]])?.first)
        #expect(worker["allowance_cores"] as? Double == 0.1, "\(worker)")
    }
}
