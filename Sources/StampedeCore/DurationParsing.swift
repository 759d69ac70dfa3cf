import Foundation

/// Parses human durations such as `90s`, `5m`, `1h30m`, `250ms`, `1.5s` or a bare number of seconds.
public enum DurationParsing {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let input: String
        public var description: String {
            "'\(input)' is not a duration; use a number with a unit, e.g. 500ms, 90s, 5m, 1h or 1h30m"
        }
    }

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let input = text.trimmingCharacters(in: .whitespaces)
        guard !input.isEmpty else { throw ParseError(input: text) }
        if let seconds = Double(input) {
            guard seconds >= 0, seconds.isFinite else { throw ParseError(input: text) }
            return .nanoseconds(Int64((seconds * 1e9).rounded()))
        }
        var totalNanos = 0.0
        var index = input.startIndex
        var sawComponent = false
        while index < input.endIndex {
            let numberStart = index
            while index < input.endIndex, input[index].isNumber || input[index] == "." { index = input.index(after: index) }
            guard numberStart < index, let value = Double(input[numberStart..<index]) else { throw ParseError(input: text) }
            let unitStart = index
            while index < input.endIndex, input[index].isLetter { index = input.index(after: index) }
            let unit = input[unitStart..<index].lowercased()
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s", "sec": scale = 1e9
            case "m", "min": scale = 60e9
            case "h", "hr": scale = 3600e9
            default: throw ParseError(input: text)
            }
            totalNanos += value * scale
            sawComponent = true
        }
        guard sawComponent, totalNanos.isFinite, totalNanos < 9.2e18 else { throw ParseError(input: text) }
        return .nanoseconds(Int64(totalNanos.rounded()))
    }
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
