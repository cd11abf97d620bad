import Foundation

/// Softmax cross-entropy of logits `[N, C]` against class indices, as PyTorch's `F.cross_entropy` with mean
/// reduction: with class weights, `Σ wᵧ·lossᵢ / Σ wᵧ` over the examples.
public enum SoftmaxCrossEntropy {
    /// The loss and its gradient with respect to the logits.
    public static func loss(logits: Tensor, labels: [Int], classWeights: [Float]? = nil) -> (loss: Float, gradient: Tensor) {
        let classes = logits.shape.last ?? 0, rows = labels.count
        precondition(logits.count == rows * classes && labels.allSatisfy { (0..<classes).contains($0) }, "labels must index the logits' classes")
        precondition(classWeights.map { $0.count == classes } ?? true, "one weight per class")
        let weights = labels.map { classWeights?[$0] ?? 1 }
        let total = weights.reduce(0, +)
        var gradient = Tensor(zeros: logits.shape)
        var loss = 0.0
        for row in 0..<rows {
            let base = row * classes
            let values = logits.scalars[base..<base + classes]
            let peak = values.max() ?? 0
            let exponentials = values.map { exp(Double($0 - peak)) }
            let sum = exponentials.reduce(0, +)
            loss += Double(weights[row]) * (log(sum) - Double(values[base + labels[row]] - peak))
            let scale = Double(weights[row]) / Double(total)
            for c in 0..<classes {
                let probability = exponentials[c] / sum
                gradient.scalars[base + c] = Float(scale * (probability - (c == labels[row] ? 1 : 0)))
            }
        }
        return (Float(loss / Double(total)), gradient)
    }
}
