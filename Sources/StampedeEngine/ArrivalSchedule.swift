import Foundation
import StampedeCore
import StampedeWorkload

/// A constant rate from `startNs` (run clock) until the next segment.
public struct RateSegment: Codable, Sendable, Equatable {
    public var startNs: Int64
    /// Requests per second (> 0).
    public var rate: Double

    public init(startNs: Int64, rate: Double) {
        self.startNs = startNs
        self.rate = rate
    }
}

/// One scheduled arrival of the global open-loop schedule.
public struct Arrival: Sendable, Equatable {
    /// Global arrival number, from 0.
    public var index: UInt64
    /// Scheduled send time, ns on the run clock.
    public var timeNs: Int64
}

/// The global open-loop schedule: arrival `k` is scheduled at time `t_k`, the same on every worker.
///
/// Gaps are drawn in **operational time** (units of "expected arrivals") from one seeded generator:
/// `g_k` has mean 1 (constant: exactly 1; poisson: exponential; gamma: shape `burstiness`, scale
/// `1/burstiness`). Arrival `k` happens when the integral of the rate reaches `G_k = g_0 + … + g_{k-1}`
/// (`G_0 = 0`: the first arrival is at the start). With one rate this is the usual `t_k = G_k / rate`;
/// with rate stages, the rate changes at each stage's start and the gaps keep their draws, so the
/// schedule is a pure function of (seed, arrival process, stages) and needs no coordination.
public struct ArrivalSchedule: Sendable {
    let process: ArrivalProcess
    let shape: Double
    let segments: [RateSegment]
    var rng: SeededGenerator
    var segment = 0
    /// Operational time at the start of `segments[segment]`.
    var segmentTau = 0.0
    /// Operational time of the next arrival.
    var tau = 0.0
    var nextIndex: UInt64 = 0

    /// The generator stream of the arrival gaps (apart from every prompt stream).
    public static let stream: UInt64 = 0x0A44_1BA1_5C4E_D01E

    public init(seed: UInt64, process: ArrivalProcess, burstiness: Double = 1, segments: [RateSegment]) {
        self.process = process
        self.shape = burstiness > 0 && burstiness.isFinite ? burstiness : 1
        let valid = segments.filter { $0.rate > 0 && $0.rate.isFinite }.sorted { $0.startNs < $1.startNs }
        self.segments = valid.isEmpty ? [RateSegment(startNs: 0, rate: 1)] : valid
        self.rng = SeededGenerator(seed: seed, stream: Self.stream)
    }

    public init(scenario: Scenario, plan: StagePlan) {
        let open = scenario.openLoop ?? OpenLoop(rate: 1)
        self.init(seed: scenario.seed, process: open.arrival, burstiness: open.burstiness,
                  segments: plan.rateSegments(fallback: open.rate))
    }

    /// The next arrival in order.
    public mutating func next() -> Arrival {
        let arrival = Arrival(index: nextIndex, timeNs: time(ofTau: tau))
        nextIndex += 1
        tau += Self.unitGap(process, shape: shape, using: &rng)
        return arrival
    }

    /// Draws every arrival before number `index`, so that `next()` returns arrival `index` (a schedule
    /// rebuilt for a change of rate carries on where the old one was).
    public mutating func skip(toIndex index: UInt64) {
        while nextIndex < index { _ = next() }
    }

    /// The segment (= stage of a run whose rate was changed while it ran) that holds run-clock time `ns`.
    public static func segmentIndex(_ segments: [RateSegment], atNs ns: Int64) -> Int {
        segments.lastIndex { $0.startNs <= ns } ?? 0
    }

    /// Skips to the first arrival at or after `ns` (a worker that joins mid-run), drawing every gap
    /// before it so that the numbering matches the other workers. Bounded by the arrivals before `ns`.
    public mutating func skip(toNs ns: Int64) {
        while time(ofTau: tau) < ns { _ = next() }
    }

    /// Run-clock time at which the integral of the rate reaches `target`. `target` never decreases
    /// between calls, so the segment index only moves forward.
    mutating func time(ofTau target: Double) -> Int64 {
        while segment + 1 < segments.count {
            let current = segments[segment]
            let span = Double(segments[segment + 1].startNs - current.startNs) / 1e9 * current.rate
            guard target >= segmentTau + span else { break }
            segmentTau += span
            segment += 1
        }
        let current = segments[segment]
        let seconds = (target - segmentTau) / current.rate
        // A rate of 0 (or one so small the arrival lies past 2^62 ns) means: never.
        let offset = seconds * 1e9
        guard offset.isFinite, offset >= 0, offset < 4.6e18 else { return .max }
        return current.startNs.saturatingAdd(Int64(offset.rounded()))
    }

    // MARK: Gaps

    /// A gap with mean 1 for the given process.
    static func unitGap(_ process: ArrivalProcess, shape: Double, using rng: inout SeededGenerator) -> Double {
        switch process {
        case .constant: return 1
        case .poisson: return -log(rng.nextOpenUnitDouble())
        case .gamma: return gamma(shape: shape, using: &rng) / shape
        }
    }

    /// Gamma(shape, scale 1) by Marsaglia and Tsang (2000); shape < 1 by the boost
    /// `Gamma(shape + 1) · U^(1/shape)`. The rejection loop accepts with probability > 0.95, and is
    /// capped at 64 tries (then the mean is returned), so it is bounded.
    static func gamma(shape: Double, using rng: inout SeededGenerator) -> Double {
        if shape < 1 {
            let boosted = gamma(shape: shape + 1, using: &rng)
            return boosted * pow(rng.nextOpenUnitDouble(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        for _ in 0..<64 {
            let x = rng.nextStandardNormal()
            let base = 1 + c * x
            guard base > 0 else { continue }
            let v = base * base * base
            let u = rng.nextOpenUnitDouble()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
        return shape
    }
}

/// Which worker sends an arrival: slot `k % slots`, under the partition in force at the arrival's
/// scheduled time. Partitions change at agreed run-clock times (`WorkerShare.effectiveAtNs`).
struct ArrivalPartitions: Sendable, Equatable {
    struct Partition: Sendable, Equatable {
        var fromNs: Int64
        var slot: Int
        var slots: Int
    }

    /// Ascending `fromNs`.
    private(set) var list: [Partition] = []

    /// Adds the partition of `share` (a share without one means "slot 0 of 1 from the start"). A
    /// newer partition replaces any not yet in force at or after its time.
    mutating func apply(_ share: WorkerShare) {
        let slots = max(1, share.arrivalSlots ?? 1)
        let slot = share.arrivalSlot ?? 0
        let from = max(0, share.effectiveAtNs ?? 0)
        list.removeAll { $0.fromNs >= from }
        list.append(Partition(fromNs: from, slot: slot, slots: slots))
    }

    /// Whether this worker sends arrival `index` scheduled at `ns`. Forgets partitions that can no
    /// longer apply (arrivals are asked about in time order).
    mutating func owns(_ index: UInt64, atNs ns: Int64) -> Bool {
        while list.count > 1, list[1].fromNs <= ns { list.removeFirst() }
        guard let current = list.first, current.fromNs <= ns, current.slot >= 0, current.slot < current.slots else { return false }
        return index % UInt64(current.slots) == UInt64(current.slot)
    }
}
