import StampedeCore
import Testing
@testable import StampedeMock

/// The simulated server's words, ids and fault draws are a pure function of its seed. These values were
/// taken before its SplitMix64 moved to StampedeCore (issue 10) and pin that the move changed nothing.
@Suite("The mock's seeded output is pinned")
struct MockSeedPinTests {
    @Test func answerAndReasoningText() {
        let plan = TextPlan(seed: 5, prompt: "")
        #expect(plan.answerText(count: 12) == "Is blocks when queues load load under throughput streams first until to")
        #expect(plan.reasoningText(count: 6) == "Consider right first about hmm then")
        #expect((0..<6).map { plan.answerToken($0).logprob } == [-1.45, -0.91, -0.17, -0.11, -0.38, -0.47])
        #expect((0..<6).map { plan.answerToken($0).id } == [1028, 1026, 1056, 1007, 1005, 1005])
    }

    @Test func splitMix64ReferenceSequence() {
        // The published SplitMix64 outputs for seed 0.
        var rng = SplitMix64(seed: 0)
        #expect((0..<4).map { _ in rng.next() } == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
    }

    @Test func faultDrawsAndRequestSeeds() async {
        let state = MockState(config: MockConfig(timing: .fixed(ttft: .zero, itl: .zero), error500Rate: 0.25, error429Rate: 0.25,
                                                 abortRate: 0.1, streamErrorRate: 0.1, seed: 42))
        var faults: [Fault] = []
        var seeds: [UInt64] = []
        for _ in 0..<10 {
            let admission = await state.admit()
            faults.append(admission.fault)
            seeds.append(admission.seed)
        }
        #expect(faults == [.none, .http429, .http500, .http500, .http429, .http500, .abort, .streamError, .http500, .http500])
        #expect(seeds.prefix(3) == [2_949_826_092_126_892_291, 6_349_198_060_258_255_764, 16_015_981_125_662_989_062])
    }

    @Test func completionIds() {
        #expect(WireFormat(dialect: .chat, requestNumber: 7, created: 0, model: "m").id == "chatcmpl-2c3c6628f3f12e2a")
    }
}
