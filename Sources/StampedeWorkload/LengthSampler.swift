import Foundation
import StampedeCore

/// Draws token lengths from a normal distribution, rounded and clamped to at least 1 and at most
/// `LengthSpec.maximumDrawn` (LLMPerf's `--mean-input-tokens` / `--stddev-input-tokens` model).
public struct LengthSampler: Sendable {
    public let spec: LengthSpec

    public init(_ spec: LengthSpec) {
        self.spec = spec
    }

    /// One length. With `stddev == 0` it is `mean` exactly (at least 1) and draws no randomness.
    public func draw(using generator: inout some RandomNumberGenerator) -> Int {
        guard spec.stddev > 0 else { return min(max(1, spec.mean), LengthSpec.maximumDrawn) }
        let value = Double(spec.mean) + Double(spec.stddev) * generator.nextStandardNormal()
        // Clamp before converting: a huge spec must not trap in Int(_:), nor build a prompt of gigabytes.
        let bounded = min(max(value.rounded(), 1), Double(LengthSpec.maximumDrawn))
        return Int(bounded)
    }
}
