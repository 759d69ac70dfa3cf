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
        let value = Double(spec.mean) + Double(spec.stddev) * Self.standardNormal(using: &generator)
        // Clamp before converting: a huge spec must not trap in Int(_:), nor build a prompt of gigabytes.
        let bounded = min(max(value.rounded(), 1), Double(LengthSpec.maximumDrawn))
        return Int(bounded)
    }

    /// A standard normal variate by the Box–Muller transform (two uniforms per draw; the second
    /// variate is discarded so that every draw consumes the same amount of randomness).
    static func standardNormal(using generator: inout some RandomNumberGenerator) -> Double {
        // u1 in (0, 1] keeps log finite; u2 in [0, 1).
        let u1 = (Double(generator.next() >> 11) + 1) * 0x1.0p-53
        let u2 = Double(generator.next() >> 11) * 0x1.0p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
