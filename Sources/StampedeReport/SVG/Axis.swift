import Foundation

/// How an axis maps data to position.
public enum AxisScale: Sendable, Equatable {
    case linear
    /// Base-10 logarithm; values at or below 0 are not drawn.
    case log
    /// Percentiles (0 to 100) on the HDR plot's axis: position ∝ log10(100 / (100 − p)), so 90, 99, 99.9 … are
    /// evenly spaced. `decades` is where the axis ends (3: 99.9%).
    case percentile(decades: Int)
}

/// One axis of a chart: its scale, its data domain and its ticks. Pure arithmetic, no drawing.
struct Axis: Equatable {
    var scale: AxisScale
    var lo: Double
    var hi: Double
    var ticks: [Double]

    /// The axis for `values`: from 0 (linear, unless `fromZero` is false) or the decade below (log) to a round
    /// value at or above the largest. `explicitTicks` replaces the computed ticks, and the domain becomes the
    /// span of those ticks and the values.
    init(scale: AxisScale, values: [Double], fromZero: Bool = true, explicitTicks: [Double]? = nil) {
        self.scale = scale
        let finite = values.filter { $0.isFinite }
        switch scale {
        case .linear:
            var low = fromZero ? min(0, finite.min() ?? 0) : (finite.min() ?? 0)
            var high = max(finite.max() ?? 1, low)
            if high - low < 1e-12 { high = low + (low == 0 ? 1 : abs(low) * 0.1) }
            let step = Self.niceStep((high - low) / 5)
            low = (low / step).rounded(.down) * step
            high = (high / step).rounded(.up) * step
            lo = low
            hi = high
            ticks = Self.linearTicks(low, high, step)
        case .log:
            let positive = finite.filter { $0 > 0 }
            let low = pow(10, (log10(positive.min() ?? 1)).rounded(.down))
            var high = pow(10, (log10(positive.max() ?? 10)).rounded(.up))
            if high <= low { high = low * 10 }
            lo = low
            hi = high
            ticks = Self.logTicks(low, high)
        case .percentile(let decades):
            let decades = min(max(decades, 1), 6)
            lo = 0
            hi = 100 - 100 * pow(10, -Double(decades))
            ticks = [0] + (1...decades).map { 100 - 100 * pow(10, -Double($0)) }
        }
        if let explicitTicks, !explicitTicks.isEmpty {
            let usable = explicitTicks.filter { $0.isFinite && (scale != .log || $0 > 0) }
            if let low = usable.min(), let high = usable.max() {
                let data = finite.filter { scale != .log || $0 > 0 }
                lo = min(low, data.min() ?? low)
                hi = max(high, data.max() ?? high)
                if hi <= lo { hi = lo + 1 }
                ticks = usable
            }
        }
    }

    /// The transformed value, before it is scaled to the plot area.
    func transform(_ value: Double) -> Double {
        switch scale {
        case .linear: value
        case .log: log10(max(value, 1e-300))
        case .percentile: log10(100 / max(100 - min(max(value, 0), 100), 1e-9))
        }
    }

    /// 0 at `lo`, 1 at `hi`; values outside fall outside (the chart clips them).
    func fraction(_ value: Double) -> Double {
        let span = transform(hi) - transform(lo)
        guard span > 0 else { return 0 }
        return (transform(value) - transform(lo)) / span
    }

    /// Whether a value can be drawn on this axis.
    func accepts(_ value: Double) -> Bool {
        value.isFinite && (scale != .log || value > 0)
    }

    func label(_ value: Double) -> String {
        if case .percentile = scale { return Markup.number(value) + "%" }
        return Markup.number(value)
    }

    /// 1, 2 or 5 × 10^k, the nearest at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, log10(raw).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * power >= raw * 0.999 { return factor * power }
        return 10 * power
    }

    static func linearTicks(_ low: Double, _ high: Double, _ step: Double) -> [Double] {
        guard step > 0 else { return [low] }
        let count = min(Int(((high - low) / step).rounded()) + 1, 50)
        return (0..<max(count, 1)).map { low + Double($0) * step }
    }

    /// Each decade; with three decades or fewer also 2× and 5×.
    static func logTicks(_ low: Double, _ high: Double) -> [Double] {
        let first = Int(log10(low).rounded())
        let last = Int(log10(high).rounded())
        guard last >= first, last - first <= 40 else { return [low, high] }
        let dense = last - first <= 3
        var ticks: [Double] = []
        for exponent in first...last {
            let decade = pow(10, Double(exponent))
            ticks.append(decade)
            if dense, exponent < last { ticks += [2 * decade, 5 * decade] }
        }
        return ticks
    }
}
