import DSP
import Foundation
import NetCore
import Plots

extension PatchAnalysis {
    /// A file's classification drawn as YAMNet's visualization notebook draws it: the log-mel spectrogram, the scores
    /// of the `top` classes with the highest mean score over the patches (a heat map, white to black), and the
    /// `events` as bars on a timeline, one row per label, shaded by their score on the same scale — all on one time axis.
    public func plot(frames: Tensor, frontEnd: LogMelFrontEnd, labels: [String], events: [SoundEvent], top: Int = 10,
                     title: String, format: Canvas.Format) -> Canvas {
        let mean = meanScores
        let classes = Array(mean.indices.sorted { mean[$0] > mean[$1] }.prefix(max(1, top)))
        let eventLabels = events.map(\.label).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let rowHeight = 18.0, scoresHeight = rowHeight * Double(classes.count), timelineHeight = rowHeight * Double(max(eventLabels.count, 1))
        let left = 40 + min(260, (classes.map { labels[$0] } + eventLabels).map { Double($0.count) * 6.5 }.max() ?? 0)
        let width = 1100.0, plotWidth = width - left - 130
        let height = 40 + 220 + 30 + scoresHeight + 30 + timelineHeight + 60
        let canvas = Canvas(width: Int(width), height: Int(height), format: format)
        let end = max(duration, Spectrogram.duration(frames, frontEnd), 0.01)
        let time = Scale(0, end)

        let spectrogram = Axes(frame: Rect(x: left, y: 40, width: plotWidth, height: 220), x: time, y: Scale(0, Double(frontEnd.melBands)))
        Spectrogram.drawPanel(frames, frontEnd: frontEnd, axes: spectrogram, on: canvas, title: title, showTime: false)

        // Patch i covers [i·hop, i·hop + window]; its column is drawn at its hop, as the notebook does.
        let scoresFrame = Rect(x: left, y: spectrogram.frame.y + 220 + 30, width: plotWidth * min(1, Double(patchCount) * hopSeconds / end), height: scoresHeight)
        let count = patchCount, width521 = scores.shape[1]
        var heat = [Float](repeating: 0, count: classes.count * count)
        for (row, index) in classes.reversed().enumerated() {
            for patch in 0..<count { heat[row * count + patch] = scores.scalars[patch * width521 + index] }
        }
        canvas.heatmap(heat, rows: classes.count, columns: count, in: scoresFrame, colormap: .grayscale, range: 0...1)
        let scoreAxes = Axes(frame: Rect(x: left, y: scoresFrame.y, width: plotWidth, height: scoresHeight), x: time, y: Scale(0, Double(classes.count)))
        scoreAxes.draw(on: canvas, xLabel: "", yLabel: "", title: "Scores of the \(classes.count) top classes", showXTicks: false,
                       yLabels: classes.enumerated().map { (Double(classes.count - $0.offset) - 0.5, labels[$0.element]) })
        Axes.colorbar(on: canvas, in: Rect(x: left + plotWidth + 25, y: scoresFrame.y, width: 16, height: scoresHeight),
                      colormap: .grayscale, range: 0...1, label: "score")

        let timeline = Axes(frame: Rect(x: left, y: scoresFrame.y + scoresHeight + 30, width: plotWidth, height: timelineHeight), x: time,
                            y: Scale(0, Double(max(eventLabels.count, 1))))
        for event in events {
            let row = Double(eventLabels.firstIndex(of: event.label)!)
            let topLeft = timeline.point(event.start, Double(eventLabels.count) - row), bottomRight = timeline.point(min(event.end, end), Double(eventLabels.count) - row - 1)
            canvas.fill(Rect(x: topLeft.x, y: topLeft.y + 2, width: max(bottomRight.x - topLeft.x, 1), height: bottomRight.y - topLeft.y - 4),
                        Colormap.grayscale.color(at: Double(event.score)))
        }
        timeline.draw(on: canvas, xLabel: "Time (s)", yLabel: "", title: events.isEmpty ? "Events (none above the threshold)" : "Events",
                      yLabels: eventLabels.enumerated().map { (Double(eventLabels.count - $0.offset) - 0.5, $0.element) })
        return canvas
    }
}
