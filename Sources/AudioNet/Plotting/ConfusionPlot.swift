import Foundation
import Plots

extension Evaluation {
    /// The confusion matrix as a heat map: rows the true classes, columns the predicted ones, each cell shaded by the
    /// fraction of its true class (its row) and marked with its count; accuracy and macro F1 in the title.
    public func plot(title: String, format: Canvas.Format) -> Canvas {
        let count = labels.count, cell = min(60, max(14, 560 / Double(max(count, 1))))
        let labelWidth = min(240, 30 + Double(labels.map(\.count).max() ?? 0) * 6.5)
        let side = cell * Double(count)
        let canvas = Canvas(width: Int(labelWidth + side + 140), height: Int(70 + side + labelWidth), format: format)
        let frame = Rect(x: labelWidth, y: 50, width: side, height: side)
        var fractions = [Float](repeating: 0, count: count * count)
        for row in 0..<count {
            let total = confusion[row].reduce(0, +)
            // The heat map's first row is drawn at the bottom: true class 0 goes on top.
            for column in 0..<count { fractions[(count - 1 - row) * count + column] = total == 0 ? 0 : Float(confusion[row][column]) / Float(total) }
        }
        canvas.heatmap(fractions, rows: count, columns: count, in: frame, colormap: .viridis, range: 0...1)
        canvas.stroke(frame, .black)
        let size = min(12, cell * 0.45)
        for row in 0..<count {
            let y = frame.y + (Double(row) + 0.5) * cell
            canvas.text(labels[row], at: (frame.x - 6, y), size: size, anchor: TextAnchor(1, 0.5))
            canvas.text(labels[row], at: (frame.x + (Double(row) + 0.5) * cell, frame.y + side + 6), size: size, anchor: TextAnchor(1, 0.5), degrees: 90)
            let total = confusion[row].reduce(0, +)
            for column in 0..<count where cell >= 20 {
                let fraction = total == 0 ? 0 : Double(confusion[row][column]) / Double(total)
                canvas.text(String(confusion[row][column]), at: (frame.x + (Double(column) + 0.5) * cell, y), size: size,
                            anchor: TextAnchor(0.5, 0.5), color: fraction > 0.6 ? .black : .white)
            }
        }
        canvas.text("True class", at: (12, frame.y + side / 2), size: 12, anchor: TextAnchor(0.5, 1), degrees: 90)
        canvas.text("Predicted class", at: (frame.x + side / 2, Double(canvas.height) - 16), size: 12, anchor: TextAnchor(0.5, 0))
        canvas.text(title + String(format: " — accuracy %.3f, macro F1 %.3f", accuracy, macroF1), at: (12, 20), size: 13, anchor: TextAnchor(0, 0.5))
        Axes.colorbar(on: canvas, in: Rect(x: frame.x + side + 20, y: frame.y, width: 16, height: side), colormap: .viridis, range: 0...1,
                      label: "Fraction of the true class")
        return canvas
    }
}
