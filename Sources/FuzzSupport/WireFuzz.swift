import Foundation
import NIOCore
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeReport
#if DEBUG
// The handshake state machines are internal; debug builds (the fuzz build is one) enable testability.
@testable import StampedeCluster
#else
import StampedeCluster
#endif

/// One fuzz input for the cluster wire: JSON lines as a peer would send them, fed through the
/// decoder, both handshake state machines and the coordinator's merge, the way `CoordinatorServer`,
/// `RunCoordinator` and `WorkerAgent` use them. Any trap is a bug: peer input must never crash us.
public enum WireFuzz {
    /// Fixed so that seed lines can carry valid proofs (Fuzz/corpus/wire/README.md).
    public static let token = "t"
    public static let workerId = "w1"
    public static let coordinatorNonce = String(repeating: "c0", count: 32)
    public static let workerNonce = String(repeating: "a1", count: 32)
    /// The coordinator's run clock in the harness: 10.5 s into the run.
    public static let runClockNs: Int64 = 10_500_000_000
    public static let stageCount = 4
    /// Bound on records held ahead of their stats (the coordinator's is 50,000; smaller keeps runs fast).
    static let maxPendingRecords = 20_000

    public static func run(_ bytes: UnsafeRawBufferPointer) {
        #if DEBUG
        var coordinator = CoordinatorHandshake(token: token, nonce: coordinatorNonce)
        var openCoordinator = CoordinatorHandshake(token: nil, nonce: coordinatorNonce)
        var worker = WorkerHandshake(workerId: workerId, token: token, instance: "i1", version: "0.1.0", host: "fuzz", cores: 2,
                                     nonce: workerNonce)
        var tokenlessWorker = WorkerHandshake(workerId: workerId, token: nil, instance: "i1", version: "0.1.0", host: "fuzz", cores: 2,
                                              nonce: workerNonce)
        #endif
        var aggregator = MetricsAggregator()
        var recordSet = MetricSet()
        var keptRecords: [RequestRecord] = []
        var pending: [UInt64: [RequestRecord]] = [:]
        var pendingCount = 0
        var clock = ClockOffsetEstimator()
        let allocator = ByteBufferAllocator()

        for line in FuzzBytes.lines(bytes) {
            let buffer = allocator.buffer(bytes: line)
            // Before authentication each side reads only the envelope of what it does not allow yet.
            _ = try? WireCodec.decode(buffer, allowing: ClusterMessage.coordinatorPreAuthTypes)
            _ = try? WireCodec.decode(buffer, allowing: ClusterMessage.workerPreAuthTypes)
            let message: ClusterMessage
            do { message = try WireCodec.decode(buffer) } catch { continue }

            #if DEBUG
            _ = coordinator.receive(message)
            _ = openCoordinator.receive(message)
            _ = worker.receive(message)
            _ = tokenlessWorker.receive(message)
            #endif
            // What we accept, we can send: the encoder must take any decoded message.
            if let encoded = try? WireCodec.encode(message, allocator: allocator) {
                _ = try? WireCodec.decode(encoded.getSlice(at: encoded.readerIndex, length: encoded.readableBytes - 1)!)
            }

            switch message {
            case .stats(var delta):
                // CoordinatorServer: records sent ahead of their stats join it; any others are stale.
                delta.records += pending.removeValue(forKey: delta.seq) ?? []
                pending.removeAll()
                pendingCount = 0
                // RunCoordinator.deliver
                guard DeltaAdmission.refusal(delta, runClockNs: runClockNs, stageCount: stageCount) == nil else { continue }
                if aggregator.apply(delta) == .applied {
                    // RunCoordinator hands them to the outputs: JSONL, LLMPerf (whose stage summaries record them).
                    for record in delta.records {
                        if !KnownIssues.skipMetrics(record) { recordSet.record(record) }
                        if keptRecords.count < 1_000 { keptRecords.append(record) }
                    }
                }
                aggregator.close(intervalsBefore: delta.interval)
            case .records(let seq, let records):
                pendingCount += records.count
                guard pendingCount <= maxPendingRecords else { pending.removeAll(); pendingCount = 0; continue }
                pending[seq, default: []] += records
                for record in records {
                    guard (try? record.check()) != nil, !KnownIssues.skipMetrics(record) else { continue }
                    recordSet.record(record)
                }
            case .pong(let t, let now, let cpu):
                // WorkerAgent: the clock offset from a round trip; CoordinatorServer keeps the cpu figure.
                clock.add(sentNs: t, peerNs: now, receivedNs: 5_000_000_000)
                _ = cpu.map { String(format: "%.0f%%", $0) }
            case .start(let assignment, let epochNs):
                // WorkerAgent: `epochNs - offset` (both range-checked on the wire).
                _ = ProcessClock.instant(ofNs: epochNs - clock.offsetNs)
                _ = assignment.share.users
            case .welcome(_, let heartbeatMs, let timeoutMs, let runClockNs):
                _ = Duration.milliseconds(heartbeatMs) + .milliseconds(timeoutMs) + .nanoseconds(runClockNs)
            default:
                break
            }
        }

        // The end of a run: reduce, build the series and the reports' statistics.
        aggregator.closeAll()
        _ = aggregator.series
        // StatsSummary dominates the time per input (HDR percentiles, mean and stddev walk every
        // bucket): one stage's set equals the total, so stages are summarised only when there are several.
        let overall = summarize(aggregator.total)
        if aggregator.stages.count > 1 {
            for (_, set) in aggregator.stages { summarize(set) }
        }
        summarize(recordSet)
        LLMPerfFuzz.export(aggregator.total, overall: overall, records: keptRecords)
        _ = try? MetricSet(wire: aggregator.total.wire)
    }

    /// The statistics every report prints (StatsSummary reads every histogram's percentiles).
    @discardableResult
    static func summarize(_ set: MetricSet) -> StatsSummary {
        StatsSummary(set, durationSeconds: 10)
    }
}
