import ArgumentParser
import StampedeMock

/// Flags of the simulated server: `stampede mock`, and `stampede run` without --target.
struct MockOptions: ParsableArguments {
    @Option(name: .customLong("ttft-ms"), help: ArgumentHelp("Fixed-delay mode: first token after this many ms (use with --itl-ms). Replaces the batching model.", valueName: "ms"))
    var ttftMs: Double?
    @Option(name: .customLong("itl-ms"), help: ArgumentHelp("Fixed-delay mode: one token every this many ms after the first.", valueName: "ms"))
    var itlMs: Double?

    @Option(name: .customLong("prefill-ms-per-token"), help: ArgumentHelp("Batching model: prefill time per input token, ms.", valueName: "ms"))
    var prefillMsPerToken: Double = EngineProfile.llama70b.prefillMsPerInputToken
    @Option(name: .customLong("decode-ms"), help: ArgumentHelp("Batching model: time of one decode step (one token for every running sequence) at batch size 1, ms.", valueName: "ms"))
    var decodeMs: Double = EngineProfile.llama70b.decodeMsPerStep
    @Option(help: ArgumentHelp("Sequences generated together; more requests queue, first come first served. Batching model: decoded in one step (default \(EngineProfile.llama70b.maxBatch)). Fixed-delay mode: at most this many requests at once, each timed from when it gets a slot (default: no limit).", valueName: "n"))
    var maxBatch: Int?
    @Option(help: ArgumentHelp("Batching model: each extra sequence in the batch slows a step by this fraction.", valueName: "fraction"))
    var batchSlowdown: Double = EngineProfile.llama70b.batchSlowdown

    @Option(name: .customLong("jitter-ms"), help: ArgumentHelp("Fault: add uniform random 0..N ms to every delay.", valueName: "ms"))
    var jitterMs: Double = 0
    @Option(name: .customLong("error-rate-500"), help: ArgumentHelp("Fault: fraction of requests answered 500.", valueName: "fraction"))
    var errorRate500: Double = 0
    @Option(name: .customLong("error-rate-429"), help: ArgumentHelp("Fault: fraction of requests answered 429 (throttled).", valueName: "fraction"))
    var errorRate429: Double = 0
    @Option(help: ArgumentHelp("Fault: fraction of streams cut midway (connection closed, no [DONE]).", valueName: "fraction"))
    var abortRate: Double = 0
    @Option(help: ArgumentHelp("Fault: fraction of streams that send an {\"error\": …} event midway.", valueName: "fraction"))
    var streamErrorRate: Double = 0
    @Option(help: ArgumentHelp("Chat: emit this many reasoning_content chunks before the answer.", valueName: "n"))
    var reasoningTokens: Int = 0
    @Option(name: .customLong("mock-seed"), help: "Seed of the simulated server's fault draws and words.")
    var mockSeed: UInt64 = 0

    /// The field names `MockConfig` reports, mapped to the flags that set them.
    static let flagNames = ["error500Rate": "--error-rate-500", "error429Rate": "--error-rate-429", "abortRate": "--abort-rate",
                            "streamErrorRate": "--stream-error-rate", "jitterMs": "--jitter-ms", "reasoningTokens": "--reasoning-tokens",
                            "maxBatch": "--max-batch", "prefillMsPerInputToken": "--prefill-ms-per-token", "decodeMsPerStep": "--decode-ms",
                            "batchSlowdown": "--batch-slowdown", "ttft and itl": "--ttft-ms and --itl-ms"]

    var config: MockConfig {
        let timing: MockConfig.Timing
        if ttftMs != nil || itlMs != nil {
            timing = .fixed(ttft: .microseconds(Int64((ttftMs ?? 0) * 1000)), itl: .microseconds(Int64((itlMs ?? 0) * 1000)))
        } else {
            timing = .engine(EngineProfile(prefillMsPerInputToken: prefillMsPerToken, decodeMsPerStep: decodeMs,
                                           maxBatch: maxBatch ?? EngineProfile.llama70b.maxBatch,
                                           batchSlowdown: batchSlowdown))
        }
        return MockConfig(timing: timing, jitterMs: jitterMs, error500Rate: errorRate500, error429Rate: errorRate429,
                          abortRate: abortRate, streamErrorRate: streamErrorRate, reasoningTokens: reasoningTokens, seed: mockSeed,
                          fixedSlots: ttftMs != nil || itlMs != nil ? maxBatch : nil)
    }

    mutating func validate() throws {
        do {
            try config.validate()
        } catch {
            var message = error.description
            for (field, flag) in Self.flagNames where message.hasPrefix(field) {
                message = flag + ":" + message.dropFirst(field.count)
            }
            throw ValidationError(message)
        }
    }
}
