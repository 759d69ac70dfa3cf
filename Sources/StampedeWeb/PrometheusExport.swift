import Prometheus
import StampedeCore
import StampedeEngine
import StampedeMetrics
import Synchronization

/// `/metrics`: the run's merged figures in Prometheus' text format, through swift-prometheus.
///
/// The histograms are fed from the merged HDR histograms: each new snapshot's `total` is compared with the
/// previous one bucket by bucket (`HistogramDelta`), and each HDR bucket's new count is recorded at that
/// bucket's value (within 0.1% of every value in it), so the exported count equals the merged count and
/// the sum is as close as the HDR buckets allow. Counters advance by the difference of the merged counters.
/// Names and buckets: docs/metrics.md.
///
/// Sendable: the registry is Sendable and the previous totals sit behind a `Mutex`.
public final class PrometheusExport: Sendable {
    /// Bucket upper bounds, seconds, for TTFT, ITL and E2E (fixed, so that runs compare).
    public static let latencyBuckets: [LatencyMetric: [Double]] = [
        .ttft: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60],
        .itl: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2],
        .e2e: [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 600],
    ]
    public static let latencyMetrics: [LatencyMetric] = [.ttft, .itl, .e2e]

    public let registry = PrometheusCollectorRegistry()
    private let histograms: [LatencyMetric: ValueHistogram]
    private let state = Mutex(Previous())

    struct Previous {
        var buckets: [LatencyMetric: [UInt64: UInt64]] = [:]
        var counters = Counters()
    }

    public init() {
        var histograms: [LatencyMetric: ValueHistogram] = [:]
        for metric in Self.latencyMetrics {
            histograms[metric] = registry.makeValueHistogram(
                descriptor: MetricNameDescriptor(namespace: "stampede", metricName: metric.rawValue, unitName: "seconds",
                                                 helpText: "\(metric.title) of the requests merged over every worker (\(metric.formula))"),
                buckets: Self.latencyBuckets[metric] ?? [])
        }
        self.histograms = histograms
        for (name, help) in Self.gaugeHelp { gauge(name, help).set(to: 0) }
        _ = counter("input_tokens", "Input tokens of the succeeded requests")
        _ = counter("output_tokens", "Output tokens of the succeeded requests")
        for outcome in ["succeeded", "failed"] { _ = requests(outcome) }
    }

    static let gaugeHelp: [(String, String)] = [
        ("users", "Running users at the end of the newest interval"),
        ("in_flight", "Requests in flight at the end of the newest interval"),
        ("workers", "Connected workers"),
    ]

    /// Takes a snapshot (each interval, and the final results).
    public func update(_ result: RunResult, status: LiveStatus?, inFlight: Int?) {
        let deltas: [(LatencyMetric, [(value: UInt64, count: UInt64)])] = state.withLock { previous in
            var out: [(LatencyMetric, [(UInt64, UInt64)])] = []
            for metric in Self.latencyMetrics {
                let now = HistogramDelta.buckets(result.total[metric])
                out.append((metric, HistogramDelta.difference(from: previous.buckets[metric] ?? [:], to: now)))
                previous.buckets[metric] = now
            }
            let counters = result.total.counters
            let old = previous.counters
            previous.counters = counters
            advance(requests("succeeded"), old.succeeded, counters.succeeded)
            advance(requests("failed"), old.failed, counters.failed)
            for (name, count) in counters.errorsByClass { advance(errors(name), old.errorsByClass[name] ?? 0, count) }
            advance(counter("input_tokens", "Input tokens of the succeeded requests"), old.inputTokens, counters.inputTokens)
            advance(counter("output_tokens", "Output tokens of the succeeded requests"), old.outputTokens, counters.outputTokens)
            return out
        }
        for (metric, buckets) in deltas {
            guard let histogram = histograms[metric] else { continue }
            let unit = HistogramKey.latency(metric).toDisplayUnit
            for (value, count) in buckets {
                // Bounded by the new requests of one interval; swift-prometheus records one value at a time.
                for _ in 0..<count { histogram.record(Double(value) * unit) }
            }
        }
        if let status {
            gauge("users").set(to: Double(status.users))
            gauge("workers").set(to: Double(status.workers))
        } else {
            gauge("workers").set(to: Double(result.workers.filter { $0.state == .running }.count))
        }
        if let inFlight { gauge("in_flight").set(to: Double(inFlight)) }
        for worker in result.generator?.workers ?? [] {
            saturation("generator_saturated", worker.id, "1 when the worker's load generator counts as saturated").set(to: worker.saturated ? 1 : 0)
            saturation("generator_cpu_share", worker.id, "Highest share of its CPU allowance the worker's generator used").set(to: worker.cpuShareMax)
        }
    }

    /// The exposition text.
    public func text() -> String { registry.emitToString() }

    private func advance(_ counter: Counter, _ old: Int, _ new: Int) {
        if new > old { counter.increment(by: Int64(new - old)) }
    }

    private func counter(_ name: String, _ help: String) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "stampede", metricName: name, unitName: "total", helpText: help))
    }

    private func requests(_ outcome: String) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "stampede", metricName: "requests", unitName: "total",
                                                              helpText: "Finished requests by outcome"),
                             labels: [("outcome", outcome)])
    }

    private func errors(_ errorClass: String) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "stampede", metricName: "request_errors", unitName: "total",
                                                              helpText: "Failed requests by error class"),
                             labels: [("error_class", errorClass)])
    }

    private func gauge(_ name: String, _ help: String? = nil) -> Gauge {
        let help = help ?? Self.gaugeHelp.first { $0.0 == name }?.1 ?? ""
        return registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "stampede", metricName: name, unitName: "", helpText: help))
    }

    private func saturation(_ name: String, _ worker: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "stampede", metricName: name, unitName: "", helpText: help),
                           labels: [("worker", worker)])
    }
}

/// Differences of merged HDR histograms, bucket by bucket: pure.
public enum HistogramDelta {
    /// The non-empty buckets of `histogram`: bucket value → count.
    public static func buckets(_ histogram: MetricHistogram) -> [UInt64: UInt64] {
        let sparse = histogram.sparse
        var out: [UInt64: UInt64] = [:]
        out.reserveCapacity(sparse.values.count)
        for (value, count) in zip(sparse.values, sparse.counts) where count > 0 { out[value, default: 0] += count }
        return out
    }

    /// What `now` added to `before`, ascending by value. A bucket that shrank (it cannot, totals only grow) adds nothing.
    public static func difference(from before: [UInt64: UInt64], to now: [UInt64: UInt64]) -> [(value: UInt64, count: UInt64)] {
        now.compactMap { value, count in
            let old = before[value] ?? 0
            return count > old ? (value, count - old) : nil
        }.sorted { $0.value < $1.value }
    }
}
