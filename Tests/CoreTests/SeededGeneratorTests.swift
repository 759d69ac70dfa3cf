import StampedeCore
import StampedeWorkload
import Testing

@Suite("SeededGenerator")
struct SeededGeneratorTests {
    static func values(_ generator: SeededGenerator, count: Int) -> [UInt64] {
        var generator = generator
        return (0..<count).map { _ in generator.next() }
    }

    /// xoshiro256** seeded by SplitMix64, checked against an independent reference implementation,
    /// so that a run's prompts stay reproducible across Stampede versions.
    @Test func matchesReferenceSequence() {
        #expect(Self.values(SeededGenerator(seed: 0), count: 3) == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
        #expect(Self.values(SeededGenerator(seed: 42), count: 3) == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
        #expect(Self.values(SeededGenerator(seed: 42, stream: 7), count: 2) == [0xBD7B_CAEE_DA7A_91E5, 0xED78_8978_EBE2_9BE3])
        // Far enough in that every word of the state has fed the output.
        let long = Self.values(SeededGenerator(seed: 0), count: 1000)
        #expect(long.last == 0x7AAC_8C48_3A2E_DD2F)
        #expect(long.reduce(0, ^) == 0x6E7D_B6BB_92FF_E8BA)
    }

    /// A value: a copy taken mid-sequence draws what the original draws next, and drawing from
    /// one does not advance the other (a generator shared by reference would fail both).
    @Test func aCopyContinuesTheSequenceOnItsOwn() {
        var original = SeededGenerator(seed: 9, stream: 4)
        let first = original.next()
        var copy = original
        let fromOriginal = (0..<5).map { _ in original.next() }
        let fromCopy = (0..<5).map { _ in copy.next() }
        #expect(fromCopy == fromOriginal)
        #expect(!fromOriginal.contains(first))
    }

    @Test func differentSeedsDiffer() {
        #expect(Set(Self.values(SeededGenerator(seed: 1), count: 100)).isDisjoint(with: Self.values(SeededGenerator(seed: 2), count: 100)))
    }

    @Test func streamsAreIndependent() {
        // No shared values between neighbouring streams, and the pair (seed, stream) is not symmetric.
        let a = Self.values(SeededGenerator(seed: 42, stream: 0), count: 1000)
        let b = Self.values(SeededGenerator(seed: 42, stream: 1), count: 1000)
        #expect(Set(a).isDisjoint(with: b))
        #expect(Self.values(SeededGenerator(seed: 1, stream: 2), count: 4) != Self.values(SeededGenerator(seed: 2, stream: 1), count: 4))
        #expect(Self.values(SeededGenerator(seed: 42, stream: 0), count: 4) != Self.values(SeededGenerator(seed: 42), count: 4))

        // The first draw of consecutive streams looks uniform: distinct, mean near 1/2, each bit set about half the time.
        let firsts: [UInt64] = (0..<4000 as Range<UInt64>).map { stream in
            var generator = SeededGenerator(seed: 7, stream: stream)
            return generator.next()
        }
        #expect(Set(firsts).count == firsts.count)
        let mean = firsts.map { Double($0 >> 11) * 0x1.0p-53 }.reduce(0, +) / Double(firsts.count)
        #expect(abs(mean - 0.5) < 0.02)
        for bit in 0..<64 {
            let mask: UInt64 = 1 << UInt64(bit)
            let ones = firsts.filter { $0 & mask != 0 }.count
            #expect(abs(Double(ones) / Double(firsts.count) - 0.5) < 0.04, "bit \(bit)")
        }
    }

    @Test func nestedDerivationSeparatesAxes() {
        // (user 1, request 2) and (user 2, request 1) must not share a sequence.
        let a = SeededGenerator.deriveSeed(SeededGenerator.deriveSeed(5, stream: 1), stream: 2)
        let b = SeededGenerator.deriveSeed(SeededGenerator.deriveSeed(5, stream: 2), stream: 1)
        #expect(a != b)
    }

    @Test func unitDoublesAreInRangeAndUniform() {
        var generator = SeededGenerator(seed: 99)
        let draws = (0..<100_000).map { _ in generator.nextUnitDouble() }
        #expect(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(draws.reduce(0, +) / Double(draws.count) - 0.5) < 0.005)
        // Standard library helpers work on top of it.
        var other = SeededGenerator(seed: 99)
        #expect((0..<1000).allSatisfy { _ in (10..<20).contains(Int.random(in: 10..<20, using: &other)) })
    }
}

@Suite("LengthSampler")
struct LengthSamplerTests {
    @Test func zeroStddevReturnsMeanExactly() {
        var generator = SeededGenerator(seed: 1)
        let sampler = LengthSampler(LengthSpec(mean: 550, stddev: 0))
        #expect((0..<1000).allSatisfy { _ in sampler.draw(using: &generator) == 550 })
        #expect(LengthSampler(LengthSpec(mean: 0, stddev: 0)).draw(using: &generator) == 1)
    }

    @Test func clampsToAtLeastOne() {
        var generator = SeededGenerator(seed: 2)
        let sampler = LengthSampler(LengthSpec(mean: 1, stddev: 100))
        let draws = (0..<10_000).map { _ in sampler.draw(using: &generator) }
        #expect(draws.allSatisfy { $0 >= 1 })
        // About half the mass is below 1 and lands on 1; the rest spreads out to hundreds.
        let ones = draws.filter { $0 == 1 }.count
        #expect(ones > 4500 && ones < 5500)
        #expect(draws.max()! > 200)
    }

    @Test func matchesTheNormalDistribution() {
        var generator = SeededGenerator(seed: 3)
        let sampler = LengthSampler(LengthSpec(mean: 550, stddev: 150))
        let draws = (0..<20_000).map { _ in Double(sampler.draw(using: &generator)) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count - 1)
        #expect(abs(mean - 550) / 550 < 0.02)
        #expect(abs(variance.squareRoot() - 150) / 150 < 0.05)
        // Shape, not just moments: about 68% within one stddev, 95% within two.
        let within1 = Double(draws.filter { abs($0 - 550) <= 150 }.count) / Double(draws.count)
        let within2 = Double(draws.filter { abs($0 - 550) <= 300 }.count) / Double(draws.count)
        #expect(abs(within1 - 0.6827) < 0.02)
        #expect(abs(within2 - 0.9545) < 0.01)
    }

    @Test func isDeterministicForAGenerator() {
        let sampler = LengthSampler(LengthSpec(mean: 100, stddev: 30))
        var a = SeededGenerator(seed: 11)
        var b = SeededGenerator(seed: 11)
        #expect((0..<100).map { _ in sampler.draw(using: &a) } == (0..<100).map { _ in sampler.draw(using: &b) })
    }
}
