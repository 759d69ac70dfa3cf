import Foundation
import StampedeMetrics
import Testing

/// Min and max are the true extremes, kept beside the HDR buckets (which hold them to 0.1%), merged
/// exactly over the wire; the mean stays between them.
@Suite("Exact min and max")
struct ExactExtremesTests {
    @Test("min and max are the recorded values, not their buckets' bounds; the mean lies between them")
    func exact() {
        var histogram = MetricHistogram()
        histogram.record(123_457)
        histogram.record(1_001_001)
        #expect(histogram.min == 123_457)
        #expect(histogram.max == 1_001_001)
        let stats = histogram.stats
        #expect(stats.min == 123_457 && stats.max == 1_001_001)
        var same = MetricHistogram()
        for _ in 0..<10 { same.record(12_345) }
        #expect(same.stats.min == 12_345 && same.stats.max == 12_345)
        #expect(same.stats.mean == 12_345, "the buckets' mean (\(same.stats.mean)) is kept within the extremes")
    }

    @Test("merged over the wire, the extremes are those of one histogram holding every value")
    func mergedExactly() throws {
        var a = MetricHistogram(), b = MetricHistogram(), all = MetricHistogram()
        for value: UInt64 in [5_003, 70_001, 900_009] { a.record(value); all.record(value) }
        for value: UInt64 in [4_999, 65_432] { b.record(value); all.record(value) }
        var merged = MetricHistogram()
        for part in [a, b] {
            let wire = try JSONDecoder().decode(SparseHistogram.self, from: JSONEncoder().encode(part.sparse))
            try merged.add(wire)
        }
        #expect(merged.min == 4_999 && merged.max == 900_009)
        #expect(merged == all)
    }

    @Test("a peer's extremes outside its own buckets are refused; a peer that sends none gets the buckets' bounds")
    func peerExtremes() throws {
        var histogram = MetricHistogram()
        histogram.record(50_000)
        var lying = histogram.sparse
        lying.min = 1
        #expect(throws: SparseHistogram.DecodeError.extremesOutsideBuckets) { try MetricHistogram(lying) }
        lying = histogram.sparse
        lying.max = 60_000
        #expect(throws: SparseHistogram.DecodeError.extremesOutsideBuckets) { try MetricHistogram(lying) }
        var silent = histogram.sparse
        silent.min = nil
        silent.max = nil
        let decoded = try MetricHistogram(silent)
        #expect(decoded.min <= 50_000 && decoded.max >= 50_000)
    }
}
