import Foundation

/// A data range along one axis, linear or logarithmic, with the ticks a reader expects.
public struct Scale: Sendable {
    public let lower: Double, upper: Double
    public let logarithmic: Bool

    public init(_ lower: Double, _ upper: Double, logarithmic: Bool = false) {
        precondition(upper > lower && (!logarithmic || lower > 0))
        self.lower = lower
        self.upper = upper
        self.logarithmic = logarithmic
    }

    /// Where `value` falls, 0 at `lower` and 1 at `upper`.
    public func fraction(_ value: Double) -> Double {
        logarithmic ? log(value / lower) / log(upper / lower) : (value - lower) / (upper - lower)
    }

    /// About `count` round values within the range: steps of 1, 2 or 5 × 10ⁿ; on a log scale 1, 2 and 5 of each decade.
    public func ticks(count: Int = 6) -> [Double] {
        if logarithmic {
            var ticks: [Double] = []
            var decade = pow(10, floor(log10(lower)))
            while decade <= upper {
                ticks += [1.0, 2, 5].map { $0 * decade }.filter { $0 >= lower * (1 - 1e-9) && $0 <= upper * (1 + 1e-9) }
                decade *= 10
            }
            return ticks
        }
        let rough = (upper - lower) / Double(max(count, 1))
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = (lower / step).rounded(.up)
        return stride(from: first * step, through: upper + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
    }

    /// `value` as a tick label: no more digits than the step needs.
    public func label(_ value: Double) -> String {
        let ticks = self.ticks()
        let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : abs(value)
        let decimals = logarithmic || step >= 1 ? 0 : Int(max(0, -floor(log10(step))))
        return String(format: "%.\(decimals)f", value)
    }
}

/// A plotting area on a canvas: a frame, the scales of its two axes, and the ticks, labels and title around it.
public struct Axes: Sendable {
    public let frame: Rect
    public let x: Scale
    public let y: Scale

    public init(frame: Rect, x: Scale, y: Scale) {
        self.frame = frame
        self.x = x
        self.y = y
    }

    /// The canvas point of data point (`x`, `y`).
    public func point(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (frame.x + self.x.fraction(x) * frame.width, frame.y + (1 - self.y.fraction(y)) * frame.height)
    }

    /// The frame, ticks with labels (`yLabels` replaces the numeric y ticks: value and text), the axis labels and title.
    public func draw(on canvas: Canvas, xLabel: String, yLabel: String, title: String? = nil, showXTicks: Bool = true,
                     yLabels: [(value: Double, text: String)]? = nil) {
        canvas.stroke(frame, .black)
        let size = 11.0
        if showXTicks {
            for tick in x.ticks() {
                let position = point(tick, y.lower)
                canvas.line([(position.x, frame.y + frame.height), (position.x, frame.y + frame.height + 4)], .black)
                canvas.text(x.label(tick), at: (position.x, frame.y + frame.height + 6), size: size, anchor: TextAnchor(0.5, 0))
            }
            canvas.text(xLabel, at: (frame.x + frame.width / 2, frame.y + frame.height + 22), size: 12, anchor: TextAnchor(0.5, 0))
        }
        let rows = yLabels ?? y.ticks().map { ($0, y.label($0)) }
        var widest = 0.0
        for (value, text) in rows {
            let position = point(x.lower, value)
            canvas.line([(frame.x - 4, position.y), (frame.x, position.y)], .black)
            canvas.text(text, at: (frame.x - 6, position.y), size: size, anchor: TextAnchor(1, 0.5))
            widest = max(widest, canvas.textWidth(text, size: size))
        }
        if !yLabel.isEmpty {
            canvas.text(yLabel, at: (frame.x - widest - 14, frame.y + frame.height / 2), size: 12, anchor: TextAnchor(0.5, 1), degrees: 90)
        }
        if let title { canvas.text(title, at: (frame.x, frame.y - 8), size: 13, anchor: TextAnchor(0, 1)) }
    }

    /// A vertical colour bar in `rect` for `colormap` over `range`, its ticks and `label` on the right.
    public static func colorbar(on canvas: Canvas, in rect: Rect, colormap: Colormap, range: ClosedRange<Double>, label: String) {
        let steps = 64
        canvas.heatmap((0..<steps).map { Float(range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(steps - 1)) },
                       rows: steps, columns: 1, in: rect, colormap: colormap, range: range)
        canvas.stroke(rect, .black)
        let scale = Scale(range.lowerBound, range.upperBound)
        var widest = 0.0
        for tick in scale.ticks(count: 4) {
            let y = rect.y + (1 - scale.fraction(tick)) * rect.height
            canvas.line([(rect.x + rect.width, y), (rect.x + rect.width + 3, y)], .black)
            canvas.text(scale.label(tick), at: (rect.x + rect.width + 5, y), size: 10, anchor: TextAnchor(0, 0.5))
            widest = max(widest, canvas.textWidth(scale.label(tick), size: 10))
        }
        canvas.text(label, at: (rect.x + rect.width + widest + 10, rect.y + rect.height / 2), size: 11, anchor: TextAnchor(0.5, 0), degrees: 90)
    }
}
