import StampedeCore
import StampedeEngine
import Testing

/// Open-loop schedules (exponential and gamma gaps, the latter through Box–Muller) are a pure function of
/// the seed. These values were taken before the generator and the normal draw moved to StampedeCore
/// (issue 10) and pin that nothing changed.
@Suite("Seeded arrival schedules are pinned")
struct ArrivalPinTests {
    static func times(_ process: ArrivalProcess, shape: Double = 1) -> [Int64] {
        var schedule = ArrivalSchedule(seed: 9, process: process, burstiness: shape, segments: [RateSegment(startNs: 0, rate: 10)])
        return (0..<6).map { _ in schedule.next().timeNs }
    }

    @Test func poisson() { #expect(Self.times(.poisson) == [0, 323_526_911, 369_294_439, 549_484_497, 594_023_041, 749_367_985]) }
    @Test func gammaBelowOne() { #expect(Self.times(.gamma, shape: 0.5) == [0, 10_106_592, 510_782_004, 652_901_884, 766_349_965, 778_941_087]) }
    @Test func gammaAboveOne() { #expect(Self.times(.gamma, shape: 4) == [0, 31_780_700, 134_697_027, 252_551_956, 415_390_143, 565_944_760]) }
}
