import Foundation
import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeMetrics
import StampedeMock
import StampedeTestSupport
import Synchronization
import Testing

extension ClusterSuite {
    @Suite("In-process cluster over TCP")
    struct InProcessClusterTests {
        @Test("3 workers: users split 4/3/3, the request budget is exact, merged percentiles equal one histogram of all requests")
        func threeWorkers() async throws {
            let mock = try await MockServer.start(config: MockConfig(timing: .fixed(ttft: .milliseconds(20), itl: .milliseconds(2))))
            defer { Task { await mock.stop() } }
            let scenario = Scenario(target: mock.baseURL, users: 10, spawnRate: 100, maxRequests: 150,
                                    input: LengthSpec(mean: 50, stddev: 10), output: LengthSpec(mean: 10, stddev: 0),
                                    name: "in-process", collectRecords: true)
            let collected = Mutex<[RequestRecord]>([])
            let live = try await LiveCoordinator.start(scenario: scenario, onRecords: { records in collected.withLock { $0 += records } })

            let workers = (1...3).map { index in
                let agent = TestWorkers.agent(port: live.port, id: "w\(index)", makeExecutor: TestWorkers.streamingExecutor)
                return Task { try await withTimeout(.seconds(30), "worker w\(index)") { try await agent.run() } }
            }
            defer { for worker in workers { worker.cancel() } }
            try #require(await live.waitForWorkers(3), "\(live.log.transcript)")

            let coordinator = live.coordinator
            let result = try await withTimeout(.seconds(20), "the run") { await coordinator.run() }

            #expect(result.stopReason == .maxRequests)
            #expect(result.workers.map(\.id).sorted() == ["w1", "w2", "w3"])
            #expect(result.workers.map(\.users).sorted() == [3, 3, 4])
            #expect(result.workers.allSatisfy { $0.state == .stopped })

            // The budget is exact: 150 finished, no more, and the per-worker numbers add up.
            #expect(result.overall.requestsFinished == 150)
            #expect(result.workers.reduce(0) { $0 + $1.finished } == 150)
            #expect(result.total.counters.finished == 150)
            #expect(result.overall.requestsFailed == 0)
            #expect(result.overall.errorsByClass.isEmpty)
            #expect(result.workers.allSatisfy { $0.failed == 0 && $0.finished > 0 })

            // The raw records arrived once each: 150, unique per (worker, id).
            let records = collected.withLock { $0 }
            #expect(records.count == 150)
            #expect(Set(records.map { "\($0.worker ?? "?")#\($0.id)" }).count == 150)
            #expect(records.allSatisfy { $0.succeeded })
            #expect(Dictionary(grouping: records, by: { $0.worker ?? "?" }).mapValues(\.count)
                == Dictionary(uniqueKeysWithValues: result.workers.map { ($0.id, $0.finished) }))

            // Exact merging: percentiles of the merged worker histograms equal those of ONE histogram of every request.
            let metrics: [(HistogramKey, LatencyMetric, (RequestRecord) -> Int64?)] = [
                (.latency(.ttft), .ttft, RequestMetrics.ttft), (.latency(.e2e), .e2e, RequestMetrics.e2e), (.latency(.itl), .itl, RequestMetrics.itl),
            ]
            for (key, metric, value) in metrics {
                var single = MetricHistogram()
                for record in records {
                    if let v = value(record) { single.recordNanoseconds(v) }
                }
                let merged = result.total[key]
                #expect(single.count == 150, "\(key)")
                #expect(merged.count == single.count, "\(key)")
                for p in [50.0, 90, 99] {
                    #expect(merged.value(atPercentile: p) == single.value(atPercentile: p), "\(key) p\(p)")
                }
                let summary = result.overall[metric]
                #expect(summary.count == single.count)
                #expect(summary.p50 == Double(single.value(atPercentile: 50)) * 1e-6, "\(key) p50")
                #expect(summary.p90 == Double(single.value(atPercentile: 90)) * 1e-6, "\(key) p90")
                #expect(summary.p99 == Double(single.value(atPercentile: 99)) * 1e-6, "\(key) p99")
                #expect(merged.sparse == single.sparse, "\(key): buckets differ")
            }
            // Sanity: the mock's fixed timing shows through (TTFT at least 20 ms, 10 tokens per request).
            #expect(result.overall[.ttft].p50 >= 0.020)
            #expect(result.overall.outputTokensTotal == 1500)

            await live.server.shutdown(quitWorkers: true)
            for worker in workers { try await worker.value }
            await mock.stop()
        }
    }
}
