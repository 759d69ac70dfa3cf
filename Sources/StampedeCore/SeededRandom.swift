import Foundation

// The one seeded random-number module (issue 10): SplitMix64, xoshiro256** seeded through it, and the
// uniform and normal draws built on any generator. The workload (prompts, lengths), the engine (open-loop
// arrivals) and the simulated server (words, faults, jitter) all draw from here, so a seed means the same
// thing everywhere and each algorithm is written once.

/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast, seedable generator, and the seed expander of
/// `SeededGenerator`. Each output is `mix` of a counter that steps by the golden gamma.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }

    /// The step of the counter: 2^64 / φ, odd.
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's finaliser: a bijective 64-bit hash with good avalanche.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A small, fast, reproducible random number generator: xoshiro256** seeded through SplitMix64.
///
/// The same seed always gives the same sequence, on every platform and Swift version, so a run's
/// prompts and lengths can be reproduced from `Scenario.seed`. `init(seed:stream:)` derives
/// independent sequences from one seed (one per user, one per request) by hashing the pair.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = SplitMix64(seed: seed)
        s0 = splitMix.next()
        s1 = splitMix.next()
        s2 = splitMix.next()
        s3 = splitMix.next()
        // SplitMix64 is a bijection of distinct inputs, so at most one word is zero: the state is never all zero.
    }

    /// An independent generator for one `stream` (a user, a request, …) of the run seeded by `seed`.
    /// Different streams of one seed, and one stream of different seeds, give unrelated sequences.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: Self.deriveSeed(seed, stream: stream))
    }

    /// The seed that `init(seed:stream:)` uses. Nest it to derive along several axes,
    /// e.g. `deriveSeed(deriveSeed(seed, stream: user), stream: request)`.
    public static func deriveSeed(_ seed: UInt64, stream: UInt64) -> UInt64 {
        // Hash each input on its own before combining, so that (seed, stream) and (seed ^ d, stream ^ d)
        // or (stream, seed) do not collide by construction.
        SplitMix64.mix(SplitMix64.mix(seed &+ SplitMix64.gamma) ^ (stream &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, by: 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

extension RandomNumberGenerator {
    /// A uniform Double in [0, 1), from the top 53 bits of one draw.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Double in (0, 1], from the top 53 bits of one draw: safe to take the log of.
    public mutating func nextOpenUnitDouble() -> Double {
        (Double(next() >> 11) + 1) * 0x1.0p-53
    }

    /// A standard normal variate by the Box–Muller transform. It takes exactly two draws (u1 in (0, 1],
    /// then u2 in [0, 1)) and discards the second variate, so every call consumes the same randomness.
    public mutating func nextStandardNormal() -> Double {
        let u1 = nextOpenUnitDouble()
        let u2 = nextUnitDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
