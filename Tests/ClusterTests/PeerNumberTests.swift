import Foundation
@testable import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeReport
import Testing

/// Edits the first stage's metrics of a stats line built from `Fixtures.delta`.
private func statsLine(_ edit: @escaping (inout [String: Any]) -> Void) -> String {
    try! editedLine(.stats(Fixtures.delta)) {
        var delta = $0["delta"] as! [String: Any]
        var stages = delta["stages"] as! [[String: Any]]
        var metrics = stages[1]["metrics"] as! [String: Any]
        edit(&metrics)
        stages[1]["metrics"] = metrics
        delta["stages"] = stages
        $0["delta"] = delta
    }
}

private func deltaLine(_ edit: @escaping (inout [String: Any]) -> Void) -> String {
    try! editedLine(.stats(Fixtures.delta)) {
        var delta = $0["delta"] as! [String: Any]
        edit(&delta)
        $0["delta"] = delta
    }
}

extension ClusterSuite {
    /// Every number a peer sends is range-checked when its line is decoded: the lines of the
    /// hardening report (counters of 2^63−1, a histogram count of 2^64−1, a record with 2^63−1 input
    /// tokens, extreme clocks) are refused with a reason instead of trapping later.
    @Suite("Wire limits")
    struct PeerNumberTests {
        static let lines: [BadLine] = [
            BadLine(name: "finished = succeeded = Int.max", line: statsLine {
                var counters = $0["counters"] as! [String: Any]
                counters["finished"] = Int.max
                counters["succeeded"] = Int.max
                counters["failed"] = 1
                $0["counters"] = counters
            }, expect: .invalid(containing: "counter above")),
            BadLine(name: "busyNanoseconds = Int64.max", line: statsLine {
                var counters = $0["counters"] as! [String: Any]
                counters["busyNanoseconds"] = Int64.max
                $0["counters"] = counters
            }, expect: .invalid(containing: "counter above")),
            BadLine(name: "histogram count 2^64-1", line: statsLine {
                $0["histograms"] = ["ttft": ["v": [1000], "c": [UInt64.max]]]
            }, expect: .invalid(containing: "histogram counts")),
            BadLine(name: "histogram counts that overflow when summed", line: statsLine {
                $0["histograms"] = ["ttft": ["v": [1000, 2000], "c": [UInt64.max / 2 + 1, UInt64.max / 2 + 1]]]
            }, expect: .invalid(containing: "histogram counts")),
            BadLine(name: "clamped above the count", line: statsLine {
                $0["histograms"] = ["ttft": ["v": [1000], "c": [1], "x": 5]]
            }, expect: .invalid(containing: "histogram counts")),
            BadLine(name: "interval 2^40", line: deltaLine { $0["interval"] = 1 << 40 }, expect: .invalid(containing: "out of range")),
            BadLine(name: "stage 10^9", line: deltaLine {
                var stages = $0["stages"] as! [[String: Any]]
                stages[1]["stage"] = 1_000_000_000
                $0["stages"] = stages
            }, expect: .invalid(containing: "bad or repeated stage")),
            BadLine(name: "record with 2^63-1 input tokens", line: try! editedLine(.records(seq: 3, records: Fixtures.records)) {
                var records = $0["records"] as! [[String: Any]]
                records[0]["inputTokens"] = Int.max
                $0["records"] = records
            }, expect: .invalid(containing: "token count out of range")),
            BadLine(name: "record with Int64.min send time", line: try! editedLine(.records(seq: 3, records: Fixtures.records)) {
                var records = $0["records"] as! [[String: Any]]
                records[0]["sendNs"] = Int64.min
                $0["records"] = records
            }, expect: .invalid(containing: "time out of range")),
            BadLine(name: "welcome with run_clock_ns Int64.max", line: try! editedLine(.welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 1)) {
                $0["run_clock_ns"] = Int64.max
            }, expect: .invalid(containing: "run_clock_ns out of range")),
            BadLine(name: "welcome with heartbeat 0", line: try! editedLine(.welcome(workerId: "w1", heartbeatMs: 1000, timeoutMs: 5000, runClockNs: 1)) {
                $0["heartbeat_ms"] = 0
            }, expect: .invalid(containing: "heartbeat_ms out of range")),
            BadLine(name: "start with epoch_ns Int64.min", line: try! editedLine(Fixtures.everyMessage[5]) { $0["epoch_ns"] = Int64.min },
                    expect: .invalid(containing: "epoch_ns out of range")),
            BadLine(name: "start with startAtNs Int64.max", line: try! editedLine(Fixtures.everyMessage[5]) {
                var assignment = $0["assignment"] as! [String: Any]
                assignment["startAtNs"] = Int64.max
                $0["assignment"] = assignment
            }, expect: .invalid(containing: "startAtNs out of range")),
            BadLine(name: "pong with negative now", line: #"{"type":"pong","v":2,"t":1,"now":-9223372036854775808}"#,
                    expect: .invalid(containing: "now out of range")),
            BadLine(name: "pong with a 300-digit cpu", line: #"{"type":"pong","v":2,"t":1,"now":2,"cpu":1e300}"#,
                    expect: .invalid(containing: "cpu out of range")),
            BadLine(name: "hello whose version holds a newline", line: #"{"type":"hello","v":2,"worker_id":"w1","version":"1.0\nFAKE LOG LINE","host":"h","cores":1,"instance":"i","nonce":"ab"}"#,
                    expect: .invalid(containing: "version must be")),
            BadLine(name: "hello with a 300-character host", line: #"{"type":"hello","v":2,"worker_id":"w1","version":"1","host":"\#(String(repeating: "9", count: 300))","cores":1,"instance":"i","nonce":"ab"}"#,
                    expect: .invalid(containing: "host longer")),
            BadLine(name: "hello with a nonce that is not hex", line: #"{"type":"hello","v":2,"worker_id":"w1","version":"1","host":"h","cores":1,"instance":"i","nonce":"zz"}"#,
                    expect: .invalid(containing: "nonce must be")),
            BadLine(name: "share with 10^12 users", line: try! editedLine(.setUsers(generation: 2, share: Fixtures.share)) {
                var share = $0["share"] as! [String: Any]
                share["users"] = 1_000_000_000_000
                $0["share"] = share
            }, expect: .invalid(containing: "out-of-range")),
        ]

        @Test("a hostile number is refused with a reason, never a trap", arguments: lines)
        func refusesHostileNumber(_ bad: BadLine) {
            do {
                let message = try WireCodec.decode(Data(bad.line.utf8))
                Issue.record("'\(bad.line.prefix(200))' decoded as \(message)")
            } catch {
                #expect(bad.matches(error), "got \(error)")
            }
        }

        @Test("a reason from a peer is printed on one line: control characters become '?'")
        func reasonsArePrintable() throws {
            let line = #"{"type":"error","v":2,"reason":"bad\nINFO forged line\u001b[31m"}"#
            let message = try WireCodec.decode(Data(line.utf8))
            #expect(message == .error(reason: "bad?INFO forged line?[31m"))
        }

        @Test("sums of the largest values a peer may send saturate instead of trapping")
        func sumsSaturate() throws {
            var counters = Counters()
            counters.finished = Counters.maxPeerCount
            counters.succeeded = Counters.maxPeerCount
            counters.busyNanoseconds = Counters.maxPeerBusyNanoseconds
            try counters.check()
            var total = Counters()
            for _ in 0..<(1 << 16) { total.add(counters) }     // 2^64 in all: past Int.max
            #expect(total.finished == Int.max)
            #expect(total.busyNanoseconds == Int64.max)

            let biggest = SparseHistogram(values: [1000], counts: [SparseHistogram.maxTotalCount], clamped: SparseHistogram.maxTotalCount)
            var histogram = MetricHistogram()
            for _ in 0..<(1 << 15) { try histogram.add(biggest) }   // 2^63 samples offered: held at the cap
            #expect(histogram.count == MetricHistogram.maxCount)
            #expect(histogram.clamped <= histogram.count)
            #expect(histogram.value(atPercentile: 50) == 1000)
        }

        @Test("the coordinator refuses a delta ahead of its run clock, inconsistent with its bounds, or of a stage the run does not have")
        func deltaAdmission() {
            var delta = Fixtures.delta   // interval 2: 2 s ... 3 s
            #expect(DeltaAdmission.refusal(delta, runClockNs: 2_500_000_000, stageCount: 2) == nil)
            #expect(DeltaAdmission.refusal(delta, runClockNs: 500_000_000, stageCount: 2) == nil, "within the 2 s slack")
            var early = delta
            (early.interval, early.startNs, early.endNs) = (3, 3_000_000_000, 4_000_000_000)
            #expect(DeltaAdmission.refusal(early, runClockNs: 900_000_000, stageCount: 2)?.contains("ahead of the run clock") == true)
            #expect(DeltaAdmission.refusal(delta, runClockNs: 5_000_000_000, stageCount: 1)?.contains("stage 1") == true)
            delta.interval = 100_000_000   // the report's line: the series would have built 10^8 points
            #expect(DeltaAdmission.refusal(delta, runClockNs: 5_000_000_000, stageCount: 2)?.contains("does not match") == true)
            delta.startNs = 100_000_000 * 1_000_000_000
            delta.endNs = delta.startNs + 1_000_000_000
            #expect(DeltaAdmission.refusal(delta, runClockNs: 5_000_000_000, stageCount: 2)?.contains("ahead of the run clock") == true)
            delta.endNs = delta.startNs + 1
            #expect(DeltaAdmission.refusal(delta, runClockNs: 5_000_000_000, stageCount: 2)?.contains("shorter than") == true)
        }

        @Test("a target's absurd usage numbers never trap in metrics or the LLMPerf files (fuzzer findings K1, K2)")
        func absurdUsage() throws {
            // K1: 2^32 output tokens in 1 ns: an output rate of 4.3e18 tokens/s, x1000 past UInt64.
            var fast = Fixtures.records[0]
            fast.outputTokens = RequestRecord.maxTokens
            fast.firstTokenNs = fast.sendNs
            fast.endNs = fast.sendNs + 1
            fast.tokenChunkNs = [fast.endNs]
            try fast.check()
            var set = MetricSet()
            set.record(fast)
            #expect(set[.outputTokensPerSecond].count == 1)
            #expect(set[.outputTokensPerSecond].clamped == 1)
            // K2: a target's usage of Int.max prompt tokens (a local record: no wire check in between).
            var huge = Fixtures.records[0]
            huge.inputTokens = Int.max
            let export = LLMPerfExport.individualResponses([huge])
            #expect(!export.isEmpty)
        }
    }
}
