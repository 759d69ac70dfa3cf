import Foundation

/// A line chart drawn as one self-contained `<svg>`: title, legend, axes with ticks and units, lines, vertical
/// markers (stage boundaries, the knee) and labelled points. The SVG scales with its `viewBox`; every text
/// is escaped. Pure: it builds a string.
public struct LineChart: Sendable {
    public enum Side: Sendable { case left, right }

    public struct Series: Sendable {
        public var name: String
        /// Points in data units; a nil `y` breaks the line.
        public var points: [(x: Double, y: Double?)]
        public var color: String
        public var dashed = false
        public var dots = false
        public var side: Side = .left

        public init(name: String, points: [(x: Double, y: Double?)], color: String, dashed: Bool = false, dots: Bool = false,
                    side: Side = .left) {
            self.name = name
            self.points = points
            self.color = color
            self.dashed = dashed
            self.dots = dots
            self.side = side
        }
    }

    /// A vertical line across the plot, labelled at its top.
    public struct Marker: Sendable {
        public var x: Double
        public var label: String
        public init(x: Double, label: String) {
            self.x = x
            self.label = label
        }
    }

    /// A ringed point with a label next to it.
    public struct Callout: Sendable {
        public var x: Double
        public var y: Double
        public var label: String
        public var color: String
        public init(x: Double, y: Double, label: String, color: String) {
            self.x = x
            self.y = y
            self.label = label
            self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var rightLabel: String?
    public var series: [Series]
    public var markers: [Marker] = []
    public var callouts: [Callout] = []
    public var xScale: AxisScale = .linear
    public var yScale: AxisScale = .linear
    public var xTicks: [Double]?

    public init(title: String, xLabel: String, yLabel: String, rightLabel: String? = nil, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.rightLabel = rightLabel
        self.series = series
    }

    /// The drawing's size in user units, and the plot area inside it (also written as `data-plot` on the `<svg>`).
    public static let width = 720.0
    public static let height = 340.0
    static let top = 62.0
    static let bottom = 288.0
    static let left = 70.0
    static func right(hasRightAxis: Bool) -> Double { width - (hasRightAxis ? 64 : 20) }

    /// Colours a test can tell from the greys of axes, grid and text.
    public static let palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"]

    /// The chart as an `<svg>` element. `id` must be unique in the page (it names the clip path).
    public func svg(id: String) -> String {
        let safeID = String(id.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" }.prefix(64))
        let hasRight = series.contains { $0.side == .right }
        let right = Self.right(hasRightAxis: hasRight)
        let (top, bottom, left) = (Self.top, Self.bottom, Self.left)
        let xs = series.flatMap { $0.points.map { $0.x } } + markers.map(\.x) + callouts.map(\.x)
        let xAxis = Axis(scale: xScale, values: xs, fromZero: xScale == .linear && (xs.min() ?? 0) >= 0, explicitTicks: xTicks)
        let yValues = { (side: Side) in self.series.filter { $0.side == side }.flatMap { $0.points.compactMap { $0.y } } }
        let yAxis = Axis(scale: yScale, values: yValues(.left) + callouts.map(\.y))
        let rightAxis = hasRight ? Axis(scale: .linear, values: yValues(.right)) : nil
        let px = { (v: Double) in left + xAxis.fraction(v) * (right - left) }
        let py = { (axis: Axis, v: Double) in bottom - axis.fraction(v) * (bottom - top) }
        let c = Markup.coordinate

        var out = "<svg class=\"chart\" id=\"\(safeID)\" viewBox=\"0 0 \(c(Self.width)) \(c(Self.height))\""
        out += " role=\"img\" aria-labelledby=\"\(safeID)-title\" data-plot=\"\(c(left)) \(c(top)) \(c(right - left)) \(c(bottom - top))\">"
        out += "<title id=\"\(safeID)-title\">\(Markup.escape(title))</title><style>\(Self.css)</style>"
        out += "<defs><clipPath id=\"\(safeID)-clip\"><rect x=\"\(c(left - 1))\" y=\"\(c(top - 1))\" width=\"\(c(right - left + 2))\""
        out += " height=\"\(c(bottom - top + 2))\"/></clipPath></defs>"
        out += "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"\(c(Self.width))\" height=\"\(c(Self.height))\" fill=\"#ffffff\"/>"
        out += "<text class=\"title\" x=\"\(c(left))\" y=\"22\">\(Markup.escape(title))</text>"
        out += legend(left: left, right: right)

        // Grid and ticks.
        for tick in yAxis.ticks where yAxis.accepts(tick) {
            let y = py(yAxis, tick)
            out += "<line class=\"grid\" x1=\"\(c(left))\" x2=\"\(c(right))\" y1=\"\(c(y))\" y2=\"\(c(y))\"/>"
            out += "<text class=\"tick\" x=\"\(c(left - 6))\" y=\"\(c(y + 4))\" text-anchor=\"end\">\(Markup.escape(yAxis.label(tick)))</text>"
        }
        if let rightAxis {
            for tick in rightAxis.ticks {
                out += "<text class=\"tick\" x=\"\(c(right + 6))\" y=\"\(c(py(rightAxis, tick) + 4))\">\(Markup.escape(rightAxis.label(tick)))</text>"
            }
        }
        for tick in xAxis.ticks where xAxis.accepts(tick) {
            let x = px(tick)
            guard x >= left - 0.5, x <= right + 0.5 else { continue }
            out += "<line class=\"grid\" x1=\"\(c(x))\" x2=\"\(c(x))\" y1=\"\(c(top))\" y2=\"\(c(bottom))\"/>"
            out += "<text class=\"tick\" x=\"\(c(x))\" y=\"\(c(bottom + 16))\" text-anchor=\"middle\">\(Markup.escape(xAxis.label(tick)))</text>"
        }
        out += "<path class=\"axis\" d=\"M\(c(left)) \(c(top))V\(c(bottom))H\(c(right))\(hasRight ? "V\(c(top))" : "")\"/>"
        out += "<text class=\"label\" x=\"\(c((left + right) / 2))\" y=\"\(c(bottom + 36))\" text-anchor=\"middle\">\(Markup.escape(xLabel))</text>"
        out += "<text class=\"label\" transform=\"translate(16 \(c((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(Markup.escape(yLabel))</text>"
        if let rightLabel {
            out += "<text class=\"label\" transform=\"translate(\(c(Self.width - 8)) \(c((top + bottom) / 2))) rotate(90)\" text-anchor=\"middle\">"
            out += "\(Markup.escape(rightLabel))</text>"
        }

        // Markers, then lines (clipped to the plot), then callouts on top.
        for marker in markers where xAxis.accepts(marker.x) {
            let x = px(marker.x)
            guard x >= left - 0.5, x <= right + 0.5 else { continue }
            out += "<line class=\"marker\" x1=\"\(c(x))\" x2=\"\(c(x))\" y1=\"\(c(top))\" y2=\"\(c(bottom))\"/>"
            out += "<text class=\"marker-label\" x=\"\(c(x + 3))\" y=\"\(c(top + 10))\">\(Markup.escape(marker.label))</text>"
        }
        out += "<g clip-path=\"url(#\(safeID)-clip)\">"
        for s in series {
            let axis = s.side == .right ? (rightAxis ?? yAxis) : yAxis
            var d = ""
            var pen = false
            var dots: [(Double, Double)] = []
            for point in s.points {
                guard let y = point.y, xAxis.accepts(point.x), axis.accepts(y) else { pen = false; continue }
                let (x, yy) = (px(point.x), py(axis, y))
                d += (pen ? "L" : "M") + "\(c(x)) \(c(yy))"
                pen = true
                dots.append((x, yy))
            }
            let dash = s.dashed ? " stroke-dasharray=\"7 4\"" : ""
            if !d.isEmpty {
                out += "<path class=\"series\" d=\"\(d)\" stroke=\"\(Markup.escape(s.color))\"\(dash)><title>\(Markup.escape(s.name))</title></path>"
            }
            if s.dots || dots.count == 1 {
                for (x, y) in dots {
                    out += "<circle class=\"dot\" cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"3.5\" fill=\"\(Markup.escape(s.color))\"/>"
                }
            }
        }
        out += "</g>"
        for callout in callouts where xAxis.accepts(callout.x) && yAxis.accepts(callout.y) {
            let (x, y) = (px(callout.x), py(yAxis, callout.y))
            let anchorEnd = x > (left + right) / 2
            out += "<circle class=\"callout\" cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"7\" stroke=\"\(Markup.escape(callout.color))\"/>"
            out += "<text class=\"callout-label\" x=\"\(c(anchorEnd ? x - 10 : x + 10))\" y=\"\(c(max(y - 10, top + 12)))\""
            out += "\(anchorEnd ? " text-anchor=\"end\"" : "")>\(Markup.escape(callout.label))</text>"
        }
        return out + "</svg>"
    }

    /// One row of swatches above the plot; entries that do not fit are counted as "+N more".
    func legend(left: Double, right: Double) -> String {
        var out = ""
        var x = left
        let c = Markup.coordinate
        for (index, s) in series.enumerated() {
            let name = s.name.count > 40 ? String(s.name.prefix(39)) + "…" : s.name
            let width = 30 + Double(name.count) * 6.6 + 14
            if x + width > right {
                out += "<text class=\"legend\" x=\"\(c(x))\" y=\"46\">+\(series.count - index) more</text>"
                break
            }
            let dash = s.dashed ? " stroke-dasharray=\"7 4\"" : ""
            out += "<line class=\"swatch\" x1=\"\(c(x))\" x2=\"\(c(x + 24))\" y1=\"42\" y2=\"42\" stroke=\"\(Markup.escape(s.color))\"\(dash)/>"
            out += "<text class=\"legend\" x=\"\(c(x + 30))\" y=\"46\">\(Markup.escape(name))</text>"
            x += width
        }
        return out
    }

    /// The chart's CSS, inside each `<svg>` so that a chart stands alone: strokes, fonts and greys.
    public static let css = """
    svg.chart{width:100%;height:auto;display:block;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
    svg.chart .title{font-size:15px;font-weight:600;fill:#111827}
    svg.chart .legend,svg.chart .tick{font-size:12px;fill:#374151}
    svg.chart .label{font-size:12px;fill:#4b5563}
    svg.chart .grid{stroke:#e5e7eb;stroke-width:1}
    svg.chart .axis{stroke:#6b7280;stroke-width:1;fill:none}
    svg.chart .series{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
    svg.chart .swatch{stroke-width:3}
    svg.chart .marker{stroke:#9ca3af;stroke-width:1;stroke-dasharray:3 3}
    svg.chart .marker-label{font-size:10px;fill:#6b7280}
    svg.chart .callout{fill:none;stroke-width:2}
    svg.chart .callout-label{font-size:12px;font-weight:600;fill:#111827;paint-order:stroke;stroke:#ffffff;stroke-width:3px}
    """
}
