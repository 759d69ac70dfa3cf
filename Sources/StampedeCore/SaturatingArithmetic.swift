/// Sums of numbers that come from outside (peers, targets, files) never trap: they stop at the
/// type's bound instead. Used wherever such numbers are added up (counters, histogram counts).
extension FixedWidthInteger {
    /// `self + other`, clamped to `min ... max` instead of trapping.
    @inlinable
    public func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, clamped to `min ... max` instead of trapping.
    @inlinable
    public func saturatingSubtract(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other > 0 ? .min : .max
    }

    /// `self * other`, clamped to `min ... max` instead of trapping.
    @inlinable
    public func saturatingMultiply(_ other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}

infix operator &+| : AdditionPrecedence
infix operator &+|= : AssignmentPrecedence

extension FixedWidthInteger {
    /// Saturating addition: `a &+| b` is `a.saturatingAdd(b)`.
    @inlinable
    public static func &+| (lhs: Self, rhs: Self) -> Self { lhs.saturatingAdd(rhs) }

    @inlinable
    public static func &+|= (lhs: inout Self, rhs: Self) { lhs = lhs.saturatingAdd(rhs) }
}

extension Dictionary where Value: FixedWidthInteger {
    /// Adds `other`'s counts key by key, saturating.
    @inlinable
    public mutating func addSaturating(_ other: [Key: Value]) {
        merge(other) { $0 &+| $1 }
    }
}
