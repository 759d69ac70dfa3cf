import StampedeCore
import StampedeWorkload
import Testing

/// Length draws (Box–Muller over xoshiro256**) are a pure function of the seed. These values were taken
/// before the generator and the normal draw moved to StampedeCore (issue 10) and pin that nothing changed.
@Suite("Seeded length draws are pinned")
struct LengthDrawPinTests {
    @Test func lengthDraws() {
        var generator = SeededGenerator(seed: 3)
        let sampler = LengthSampler(LengthSpec(mean: 1000, stddev: 300))
        #expect((0..<8).map { _ in sampler.draw(using: &generator) } == [836, 488, 683, 886, 1035, 949, 1008, 1201])
    }

    @Test func promptPlans() throws {
        let factory = try PromptFactory(scenario: Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 10, seed: 11))
        let plans = (0..<4).map { factory.make(requestIndex: UInt64($0), user: 2) }
        #expect(plans.map(\.maxTokens) == [172, 163, 125, 148])
        #expect(plans.map(\.targetInputTokens) == [531, 849, 627, 515])
        #expect(plans.map(\.inputTokensEstimate) == [531, 850, 627, 515])
    }
}
