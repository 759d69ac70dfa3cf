#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StampedeMetrics

/// Where a worker reads its own CPU use and allowance. `ProcessCPU` in production; a fake in tests
/// (a starved worker without a starved machine).
public protocol CPUSource: Sendable {
    /// User plus system CPU time of this process, seconds.
    func processCPUSeconds() -> Double
    /// Cores this process may use.
    var allowanceCores: Double { get }
}

/// This process: `getrusage`, and the cgroup CPU quota where one is set (Kubernetes CPU limits,
/// `docker run --cpus`), else the cores it sees.
public struct ProcessCPU: CPUSource {
    public let allowanceCores: Double

    public init() {
        allowanceCores = CPUAllowance.detect(cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    public func processCPUSeconds() -> Double { Self.cpuSeconds() }

    public static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// The CPU a process may use, from its cgroup (v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`).
/// The parsers are pure; `detect` reads the files.
public enum CPUAllowance {
    /// v2 `cpu.max`: "QUOTA PERIOD", or "max PERIOD" for no limit. Nil when unlimited or unreadable.
    public static func parseV2(cpuMax: String) -> Double? {
        let fields = cpuMax.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]) else { return nil }
        return cores(quota: quota, period: period)
    }

    /// v1: the quota (-1: no limit) and the period, in µs. Nil when unlimited or unreadable.
    public static func parseV1(quota: String, period: String) -> Double? {
        guard let quota = Double(quota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let period = Double(period.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return cores(quota: quota, period: period)
    }

    static func cores(quota: Double, period: Double) -> Double? {
        guard quota > 0, period > 0, quota.isFinite, period.isFinite else { return nil }
        return min(max(quota / period, 0.001), 65_536)
    }

    /// The smallest of the cgroup quotas on this process's cgroup and its ancestors (when set) and `cores`.
    public static func detect(cores: Int, root: String = "/sys/fs/cgroup", selfCgroup: String = "/proc/self/cgroup") -> Double {
        let visible = Double(max(1, cores))
        let read = { (path: String) in try? String(contentsOfFile: path, encoding: .utf8) }
        // v2: "0::/a/b" names this process's cgroup; a quota on any ancestor limits it too.
        let v2Path = read(selfCgroup)?.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        var limit = visible
        var directory = v2Path
        while true {
            if let quota = read(root + (directory == "/" ? "" : directory) + "/cpu.max").flatMap(parseV2(cpuMax:)) { limit = min(limit, quota) }
            guard directory != "/", !directory.isEmpty else { break }
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            if directory.isEmpty { directory = "/" }
        }
        // v1: "N:cpu,cpuacct:/a/b" names the cpu controller's cgroup, under a mount named after its controllers.
        if let line = read(selfCgroup)?.split(separator: "\n").first(where: { $0.split(separator: ":").dropFirst().first?
            .split(separator: ",").contains("cpu") ?? false }) {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            let path = parts.count == 3 && parts[2] != "/" ? String(parts[2]) : ""
            for mount in ["/cpu", "/cpu,cpuacct", "/" + parts[1]] {
                if let quota = read(root + mount + path + "/cpu.cfs_quota_us"), let period = read(root + mount + path + "/cpu.cfs_period_us"),
                   let v1 = parseV1(quota: quota, period: period) {
                    limit = min(limit, v1)
                    break
                }
            }
        }
        return limit
    }
}

/// CPU share between two readings: what the process used over the wall time, against its allowance.
struct CPUShareMeter: Sendable {
    private var lastCPU: Double
    private var lastNs: Int64

    init(cpuSeconds: Double, atNs ns: Int64) {
        lastCPU = cpuSeconds
        lastNs = ns
    }

    mutating func share(cpuSeconds: Double, atNs ns: Int64, allowanceCores: Double) -> Double {
        defer { lastCPU = cpuSeconds; lastNs = ns }
        let wall = Double(ns - lastNs) / 1e9
        guard wall > 0, allowanceCores > 0 else { return 0 }
        return min(max(0, (cpuSeconds - lastCPU) / wall / allowanceCores), GeneratorSample.maxCPUShare)
    }
}
