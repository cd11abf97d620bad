/// A colour scale from 0 to 1: linear between evenly spaced stops.
public struct Colormap: Sendable {
    public let stops: [Color]

    public init(stops: [Color]) {
        precondition(stops.count >= 2)
        self.stops = stops
    }

    /// The colour at `fraction` (clamped to 0…1).
    public func color(at fraction: Double) -> Color {
        let position = min(max(fraction.isNaN ? 0 : fraction, 0), 1) * Double(stops.count - 1)
        let index = min(Int(position), stops.count - 2), t = position - Double(index)
        let (a, b) = (stops[index], stops[index + 1])
        return Color(a.red + (b.red - a.red) * t, a.green + (b.green - a.green) * t, a.blue + (b.blue - a.blue) * t)
    }

    /// matplotlib's viridis, sampled at nine even stops (perceptually uniform, readable in grey and by colour-blind eyes).
    public static let viridis = Colormap(stops: [
        Color(0.2670, 0.0049, 0.3294), Color(0.2788, 0.1755, 0.4834), Color(0.2297, 0.3224, 0.5457), Color(0.1727, 0.4488, 0.5579),
        Color(0.1276, 0.5669, 0.5506), Color(0.1579, 0.6838, 0.5017), Color(0.3692, 0.7889, 0.3829), Color(0.6785, 0.8637, 0.1895),
        Color(0.9932, 0.9062, 0.1439),
    ])

    /// matplotlib's inferno, sampled at nine even stops (black to pale yellow).
    public static let inferno = Colormap(stops: [
        Color(0.0015, 0.0005, 0.0139), Color(0.1293, 0.0473, 0.2908), Color(0.3415, 0.0623, 0.4294), Color(0.5409, 0.1347, 0.4151),
        Color(0.7357, 0.2159, 0.3302), Color(0.8943, 0.3534, 0.1936), Color(0.9784, 0.5579, 0.0349), Color(0.9746, 0.7977, 0.2063),
        Color(0.9884, 0.9984, 0.6449),
    ])

    /// White to black: for a heat map with marks drawn over it.
    public static let grayscale = Colormap(stops: [.white, Color(0.1, 0.1, 0.1)])
}
