import Foundation

/// The one duration grammar of every flag (`--run-time`, `--request-timeout`, `--step-time`, the
/// heartbeat flags …), every `--config` key (they become flags) and every SLO latency clause.
///
///     duration  := component+ | number          (a bare number is seconds, where allowed)
///     component := number unit                  e.g. 90s, 1.5m, 1h30m, 250ms
///     number    := digits [. digits] | . digits  (ASCII digits, at most 19 of them)
///     unit      := ns | us | µs | ms | s | sec | m | min | h | hr   (any case)
///
/// Leading and trailing spaces are ignored; spaces inside are not allowed. Values are computed in
/// whole nanoseconds with integer arithmetic (a fraction below 1 ns rounds to the nearest), and a
/// duration past `Duration.nanoseconds(Int64.max)` (about 292 years) is an error, not a wrap or a trap.
/// Callers apply their own, tighter ranges (`Scenario.Limits`).
public enum DurationParsing {
    /// What a number without a unit means.
    public enum BareNumber: Sendable {
        /// `2` is two seconds (flags and config keys).
        case seconds
        /// A unit is required (SLO clauses, where `2` could be read as seconds or milliseconds).
        case rejected
    }

    /// The units, as error messages name them.
    public static let unitList = "ns, us (µs), ms, s, m or h"

    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public enum Reason: Equatable, Sendable, CustomStringConvertible {
            case empty
            case negative
            case notANumber(String)
            case tooManyDigits(String)
            case missingUnit(String)
            case unknownUnit(String)
            case tooLong

            public var description: String {
                switch self {
                case .empty: "it is empty"
                case .negative: "a duration cannot be negative"
                case .notANumber(let text): "'\(text)' is not a number"
                case .tooManyDigits(let text): "'\(text)' has more than \(maxDigits) digits"
                case .missingUnit(let number): "'\(number)' has no unit"
                case .unknownUnit(let unit): "unknown unit '\(unit)'"
                case .tooLong: "longer than the longest duration supported (\(Int64.max / 86_400_000_000_000) days)"
                }
            }
        }

        public let input: String
        public let reason: Reason

        public init(input: String, reason: Reason) {
            self.input = input
            self.reason = reason
        }

        public var description: String {
            "'\(input)' is not a duration: \(reason); use a number with a unit (\(DurationParsing.unitList)), e.g. 500ms, 90s, 5m, 1h or 1h30m"
        }
    }

    static let maxDigits = 19

    /// Parses `text` (see the grammar above).
    public static func parse(_ text: String, bareNumber: BareNumber = .seconds) throws(ParseError) -> Duration {
        func fail(_ reason: ParseError.Reason) -> ParseError { ParseError(input: text, reason: reason) }
        let scalars = Array(text.trimmingCharacters(in: .whitespaces).unicodeScalars)
        guard !scalars.isEmpty else { throw fail(.empty) }
        if scalars[0] == "-" { throw fail(.negative) }
        var total: Int64 = 0
        var index = 0
        while index < scalars.count {
            // The number: digits with at most one point.
            let numberStart = index
            var mantissa: UInt64 = 0
            var digits = 0
            var fractionDigits = 0
            var sawPoint = false
            while index < scalars.count, isDigit(scalars[index]) || (scalars[index] == "." && !sawPoint) {
                if scalars[index] == "." {
                    sawPoint = true
                } else {
                    digits += 1
                    if sawPoint { fractionDigits += 1 }
                    if digits <= maxDigits { mantissa = mantissa * 10 + UInt64(scalars[index].value - 48) }
                }
                index += 1
            }
            let number = String(String.UnicodeScalarView(scalars[numberStart..<index]))
            guard digits > 0 else {
                throw fail(.notANumber(String(String.UnicodeScalarView(scalars[numberStart...].prefix { !isDigit($0) }))))
            }
            guard digits <= maxDigits else { throw fail(.tooManyDigits(number)) }
            // The unit: everything up to the next number.
            let unitStart = index
            while index < scalars.count, !isDigit(scalars[index]), scalars[index] != "." { index += 1 }
            let unit = String(String.UnicodeScalarView(scalars[unitStart..<index]))
            let unitNs: UInt64
            if unit.isEmpty {
                // Only a whole input that is one bare number may go without a unit.
                guard numberStart == 0, index == scalars.count, bareNumber == .seconds else { throw fail(.missingUnit(number)) }
                unitNs = 1_000_000_000
            } else {
                guard let scale = nanoseconds(perUnit: unit) else { throw fail(.unknownUnit(unit)) }
                unitNs = scale
            }
            guard let nanos = scaled(mantissa, fractionDigits: fractionDigits, unitNs: unitNs) else { throw fail(.tooLong) }
            let (sum, overflow) = total.addingReportingOverflow(nanos)
            guard !overflow else { throw fail(.tooLong) }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// Nanoseconds in one `unit`; nil for an unknown unit.
    static func nanoseconds(perUnit unit: String) -> UInt64? {
        switch unit.lowercased() {
        case "ns": 1
        case "us", "µs", "μs": 1_000
        case "ms": 1_000_000
        case "s", "sec": 1_000_000_000
        case "m", "min": 60_000_000_000
        case "h", "hr": 3_600_000_000_000
        default: nil
        }
    }

    /// `mantissa / 10^fractionDigits` units of `unitNs`, rounded to the nearest nanosecond; nil past `Int64.max`.
    /// The product is taken at 128 bits, so no digit string of at most `maxDigits` digits can overflow it.
    static func scaled(_ mantissa: UInt64, fractionDigits: Int, unitNs: UInt64) -> Int64? {
        var divisor: UInt64 = 1
        for _ in 0..<fractionDigits { divisor *= 10 }   // at most 10^19
        let product = mantissa.multipliedFullWidth(by: unitNs)
        guard product.high < divisor else { return nil }   // the quotient would not fit in 64 bits
        let (quotient, remainder) = divisor.dividingFullWidth(product)
        // Half a nanosecond or more rounds up; the rounded value must fit in an Int64.
        let roundsUp = remainder >= divisor - remainder
        guard quotient < UInt64(Int64.max) || (quotient == UInt64(Int64.max) && !roundsUp) else { return nil }
        return Int64(quotient) + (roundsUp ? 1 : 0)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product &+ attoseconds / 1_000_000_000
    }

    /// Seconds as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// A short human label: `850ms`, `12.3s`, `5m`, `1h2m`.
    public var shortLabel: String {
        let s = seconds
        if s < 1 { return "\(Int((s * 1000).rounded()))ms" }
        if s < 60 { return s.rounded() == s ? "\(Int(s))s" : "\((s * 10).rounded() / 10)s" }
        let total = Int(s.rounded())
        if total < 3600 { return total % 60 == 0 ? "\(total / 60)m" : "\(total / 60)m\(total % 60)s" }
        return total % 3600 == 0 ? "\(total / 3600)h" : "\(total / 3600)h\((total % 3600) / 60)m"
    }
}
