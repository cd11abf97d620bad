import DSP
import Foundation
import NetCore
import Plots

extension Spectrogram {
    /// Log-mel `frames` `[T, bands]` of `frontEnd` as a heat map (inferno) with its colour bar: time across, the mel
    /// bands up, labelled with their centre frequencies.
    public static func plot(frames: Tensor, frontEnd: LogMelFrontEnd, title: String, format: Canvas.Format) -> Canvas {
        let canvas = Canvas(width: 1100, height: 420, format: format)
        let axes = Axes(frame: Rect(x: 90, y: 40, width: 880, height: 320), x: Scale(0, max(duration(frames, frontEnd), 0.01)),
                        y: Scale(0, Double(frontEnd.melBands)))
        drawPanel(frames, frontEnd: frontEnd, axes: axes, on: canvas, title: title)
        return canvas
    }

    /// Seconds `frames` cover, one hop per frame.
    static func duration(_ frames: Tensor, _ frontEnd: LogMelFrontEnd) -> Double {
        Double(frames.shape[0] * frontEnd.hopLength) / Double(frontEnd.sampleRate)
    }

    /// The spectrogram panel: heat map, axes (`xLabel` empty leaves the time ticks to a panel below) and colour bar.
    static func drawPanel(_ frames: Tensor, frontEnd: LogMelFrontEnd, axes: Axes, on canvas: Canvas, title: String, showTime: Bool = true) {
        let (count, bands) = (frames.shape[0], frames.shape[1])
        var transposed = [Float](repeating: 0, count: count * bands)
        for frame in 0..<count { for band in 0..<bands { transposed[band * count + frame] = frames.scalars[frame * bands + band] } }
        let finite = frames.scalars.filter(\.isFinite)
        let range = Double(finite.min() ?? 0)...max(Double(finite.max() ?? 1), Double(finite.min() ?? 0) + 1e-3)
        canvas.heatmap(transposed, rows: bands, columns: count, in: axes.frame, colormap: .inferno, range: range)
        axes.draw(on: canvas, xLabel: "Time (s)", yLabel: "Frequency (Hz)", title: title, showXTicks: showTime,
                  yLabels: bandLabels(frontEnd))
        Axes.colorbar(on: canvas, in: Rect(x: axes.frame.x + axes.frame.width + 25, y: axes.frame.y, width: 16, height: axes.frame.height),
                      colormap: .inferno, range: range, label: "log mel")
    }

    /// Five of the mel bands, labelled with their centre frequencies (the spectrogram bin each weighs most).
    static func bandLabels(_ frontEnd: LogMelFrontEnd) -> [(value: Double, text: String)] {
        let bands = frontEnd.filterbank.bands
        return stride(from: 0, to: bands.count, by: max(1, bands.count / 5)).map { band in
            let peak = bands[band].weights.indices.max { bands[band].weights[$0] < bands[band].weights[$1] } ?? 0
            let hertz = Double(bands[band].first + peak) * Double(frontEnd.sampleRate) / Double(frontEnd.fftLength)
            return (Double(band) + 0.5, String(format: "%.0f", hertz))
        }
    }
}
