import Foundation
import StampedeCore
@testable import StampedeMock
import StampedeTestSupport
import Testing

/// `--max-batch` with `--ttft-ms/--itl-ms`: fixed delays plus a slot limit and a FIFO queue (it was
/// silently ignored in fixed-delay mode, so a sweep against it found the client's limit, not a knee).
extension MockServerTests {
@Suite("Fixed timing with slots")
struct FixedSlotTests {
    @Test("with 2 slots, 6 requests at once finish in three waves of the fixed time")
    func slotsQueueFIFO() async throws {
        let ttft = 300.0
        var config = MockConfig(timing: .fixed(ttft: .milliseconds(ttft), itl: .zero))
        config.fixedSlots = 2
        try await withMock(config) { mock in
            let started = ContinuousClock.now
            let finished = try await withThrowingTaskGroup(of: Double.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody("one two", maxTokens: 1))
                        #expect(answerEvents(response).count == 1)
                        return milliseconds(started.duration(to: .now))
                    }
                }
                var all: [Double] = []
                for try await time in group { all.append(time) }
                return all.sorted()
            }
            // Two at a time: about 300, 300, 600, 600, 900, 900 ms (never sooner than a wave's fixed time).
            for (index, time) in finished.enumerated() {
                let wave = Double(index / 2 + 1)
                #expect(time >= wave * ttft - 5, "request \(index) finished at \(time) ms: \(finished)")
            }
            #expect(finished[5] < 4 * ttft, "\(finished)")
        }
    }

    @Test("the slot limit is checked: 0 is refused")
    func zeroSlotsRefused() {
        var config = MockConfig(timing: .fixed(ttft: .milliseconds(1), itl: .zero))
        config.fixedSlots = 0
        #expect(throws: MockConfigError.self) { try config.validate() }
    }
}
}
