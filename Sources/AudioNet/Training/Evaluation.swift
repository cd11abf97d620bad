import NetCore

/// How well a classifier labels a set of files: accuracy, per-class precision, recall and F1, macro F1 and the
/// confusion matrix (rows: true class, columns: predicted class).
public struct Evaluation: Sendable, Codable, Equatable {
    public struct ClassFigures: Sendable, Codable, Equatable {
        public let label: String
        public let precision: Double, recall: Double, f1: Double
        public let support: Int
    }

    public let labels: [String]
    public let accuracy: Double
    public let macroF1: Double
    public let perClass: [ClassFigures]
    public let confusion: [[Int]]

    /// Figures for predicted and true class indices over `labels`.
    public init(predicted: [Int], truth: [Int], labels: [String]) {
        precondition(predicted.count == truth.count)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (p, t) in zip(predicted, truth) { confusion[t][p] += 1 }
        let perClass = labels.indices.map { c -> ClassFigures in
            let hits = confusion[c][c], predictedCount = confusion.reduce(0) { $0 + $1[c] }, support = confusion[c].reduce(0, +)
            let precision = predictedCount == 0 ? 0 : Double(hits) / Double(predictedCount)
            let recall = support == 0 ? 0 : Double(hits) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassFigures(label: labels[c], precision: precision, recall: recall, f1: f1, support: support)
        }
        self.labels = labels
        self.confusion = confusion
        self.perClass = perClass
        accuracy = truth.isEmpty ? 0 : Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
        macroF1 = perClass.isEmpty ? 0 : perClass.reduce(0) { $0 + $1.f1 } / Double(perClass.count)
    }

    /// The index of the largest value of each row of `[N, C]` scores.
    public static func argmax(_ scores: Tensor) -> [Int] {
        let classes = scores.shape.last ?? 1
        return (0..<(scores.count / classes)).map { row in
            let values = scores.scalars[row * classes..<(row + 1) * classes]
            return values.indices.max { values[$0] < values[$1] }! - row * classes
        }
    }

    /// The share of rows whose largest logit is the label's.
    static func accuracy(logits: Tensor, labels: [Int]) -> Double {
        Double(zip(argmax(logits), labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }
}
