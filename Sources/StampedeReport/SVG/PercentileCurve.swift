import Foundation
import StampedeCore
import StampedeMetrics

/// A latency distribution as HdrHistogram's percentile plot: the value at each percentile, read from the merged
/// histogram's buckets (not from raw records), sampled evenly on the percentile axis.
public enum PercentileCurve {
    /// Decades of the percentile axis for `count` samples: 90% needs 10 samples, 99% 100, … (1 to 5).
    public static func decades(count: UInt64) -> Int {
        guard count > 1 else { return 1 }
        return min(max(Int(log10(Double(count)).rounded(.down)), 1), 5)
    }

    /// (percentile, value × `unit`) at `samples` + 1 points from 0% to the axis end.
    public static func points(_ histogram: MetricHistogram, decades: Int, unit: Double, samples: Int = 160) -> [(x: Double, y: Double?)] {
        let buckets = histogram.sparse
        let total = buckets.totalCount
        guard total > 0, !buckets.values.isEmpty else { return [] }
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(buckets.counts.count)
        var running: UInt64 = 0
        for n in buckets.counts {
            running = running &+| n
            cumulative.append(running)
        }
        let samples = min(max(samples, 2), 1000)
        var out: [(x: Double, y: Double?)] = []
        var index = 0
        for step in 0...samples {
            // Evenly spaced in log10(1 / (1 - q)).
            let position = Double(decades) * Double(step) / Double(samples)
            let q = 1 - pow(10, -position)
            let rank = UInt64((q * Double(total)).rounded(.up))
            while index < cumulative.count - 1, cumulative[index] < max(rank, 1) { index += 1 }
            out.append((x: q * 100, y: Double(buckets.values[index]) * unit))
        }
        return out
    }
}
