import Foundation
import Models
import Plots

extension PitchTrack {
    /// The track drawn as crepe's `--save-plot` draws the activations, with the decoded pitch over them: the 360 bins'
    /// activations as a heat map (time × frequency on a log axis, white to black), each voiced frame's pitch as a dot
    /// coloured (and sized) by its confidence (viridis, with its colour bar). The heat map needs the track's activations
    /// (``PitchEstimator/estimate(samples:stepMilliseconds:centered:decoding:activations:embedding:progress:)`` with
    /// `activations`); without them only the pitch is drawn.
    public func plot(title: String, format: Canvas.Format) -> Canvas {
        let canvas = Canvas(width: 1100, height: 520, format: format)
        let count = times.count, hop = count > 1 ? times[1] - times[0] : 0.01
        // Bins are 20 cents apart, evenly spaced on a log frequency axis: bin i spans ±10 cents around its centre.
        let lowest = CREPE.frequency(cents: CREPE.cents(ofBin: 0) - 10), highest = CREPE.frequency(cents: CREPE.cents(ofBin: CREPE.binCount - 1) + 10)
        let start = (times.first ?? 0) - hop / 2, end = max((times.last ?? 0) + hop / 2, start + hop)
        let axes = Axes(frame: Rect(x: 90, y: 40, width: 880, height: 420), x: Scale(start, end), y: Scale(lowest, highest, logarithmic: true))
        if let activation {
            var heat = [Float](repeating: 0, count: CREPE.binCount * count)  // bins up, frames across
            for frame in 0..<count { for bin in 0..<CREPE.binCount { heat[bin * count + frame] = activation.scalars[frame * CREPE.binCount + bin] } }
            canvas.heatmap(heat, rows: CREPE.binCount, columns: count, in: axes.frame, colormap: .grayscale, range: 0...1)
        }
        for frame in 0..<count where frequencies[frame] > 0 {
            canvas.dot(axes.point(times[frame], min(max(frequencies[frame], lowest), highest)), radius: 0.8 + 1.4 * Double(confidences[frame]),
                       Colormap.viridis.color(at: Double(confidences[frame])))
        }
        axes.draw(on: canvas, xLabel: "Time (s)", yLabel: "Frequency (Hz)", title: title)
        Axes.colorbar(on: canvas, in: Rect(x: 995, y: 40, width: 16, height: 420), colormap: .viridis, range: 0...1, label: "Confidence")
        return canvas
    }
}
