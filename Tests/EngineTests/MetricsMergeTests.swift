import Foundation
import StampedeCore
import StampedeMetrics
import Testing

@Suite("HDR histograms merge exactly")
struct MetricsMergeTests {
    /// A deterministic spread of latencies from 50 µs to ~40 s.
    static func values(_ count: Int, seed: UInt64) -> [UInt64] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let exponent = Double(state >> 11) / Double(1 << 53) * 6   // 10^0 .. 10^6 ms-ish
            return UInt64(50 * pow(10, exponent))
        }
    }

    @Test func sparseRoundTripKeepsEveryBucket() throws {
        var histogram = MetricHistogram()
        for v in Self.values(5000, seed: 1) { histogram.record(v) }
        let rebuilt = try MetricHistogram(histogram.sparse)
        #expect(rebuilt.count == histogram.count)
        for p in [1.0, 25, 50, 75, 90, 95, 99, 99.9, 100] {
            #expect(rebuilt.value(atPercentile: p) == histogram.value(atPercentile: p))
        }
        #expect(rebuilt.mean == histogram.mean)
        #expect(rebuilt.max == histogram.max)
    }

    @Test func mergedPartsEqualOneHistogram() throws {
        let all = Self.values(9000, seed: 7)
        var single = MetricHistogram()
        for v in all { single.record(v) }
        // Split round-robin over 3 "workers", each shipped as sparse JSON.
        var merged = MetricHistogram()
        for part in 0..<3 {
            var h = MetricHistogram()
            for (i, v) in all.enumerated() where i % 3 == part { h.record(v) }
            let json = try JSONEncoder().encode(h.sparse)
            try merged.add(JSONDecoder().decode(SparseHistogram.self, from: json))
        }
        #expect(merged.count == single.count)
        for p in [50.0, 90, 95, 99] {
            #expect(merged.value(atPercentile: p) == single.value(atPercentile: p))
        }
        #expect(merged.stats == single.stats)
    }

    @Test func valuesAboveRangeAreClampedAndCounted() {
        var h = MetricHistogram()
        h.record(MetricHistogram.highestTrackable * 2)
        #expect(h.count == 1)
        #expect(h.clamped == 1)
        #expect(h.sparse.clamped == 1)
    }

    @Test func malformedSparseIsRejectedWithoutSideEffects() {
        var h = MetricHistogram()
        h.record(100)
        #expect(throws: SparseHistogram.DecodeError.lengthMismatch(values: 2, counts: 1)) {
            try h.add(SparseHistogram(values: [1, 2], counts: [1]))
        }
        #expect(throws: SparseHistogram.DecodeError.notAscending) {
            try h.add(SparseHistogram(values: [5, 5], counts: [1, 1]))
        }
        #expect(throws: SparseHistogram.DecodeError.valueOutOfRange(MetricHistogram.highestTrackable + 1)) {
            try h.add(SparseHistogram(values: [MetricHistogram.highestTrackable + 1], counts: [1]))
        }
        #expect(h.count == 1)
    }

    @Test func microsecondRounding() {
        var h = MetricHistogram()
        h.recordNanoseconds(1_499)
        h.recordNanoseconds(-5)
        #expect(h.max == 1)
        #expect(h.min == 0)
    }
}
