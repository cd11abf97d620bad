/// Inference BatchNorm's backward pass, its statistics frozen (PyTorch's `eval()` mode, the usual way to fine-tune on a
/// small dataset): `y = (x − μ)·γ/σ + β` gives `∂L/∂x = ∂L/∂y · γ/σ`, `∂L/∂γ = Σ ∂L/∂y · (x − μ)/σ`, `∂L/∂β = Σ ∂L/∂y`.
extension BatchNorm: Backpropagating {
    public var learnables: [[Float]] { gamma.map { [$0, beta] } ?? [beta] }

    public mutating func setLearnables(_ values: [[Float]]) {
        precondition(values.count == learnables.count, "BatchNorm takes \(learnables.count) learnable arrays")
        setLearnables(gamma: gamma == nil ? nil : values[0], beta: values[values.count - 1])
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let channels = beta.count, inverse = inverseDeviation
        var inputGradient = outputGradient
        var gammaGradient = [Float](repeating: 0, count: channels), betaGradient = gammaGradient
        inputs[0].scalars.withUnsafeBufferPointer { x in
            inputGradient.scalars.withUnsafeMutableBufferPointer { dy in
                for row in stride(from: 0, to: dy.count, by: channels) {
                    for c in 0..<channels {
                        gammaGradient[c] += dy[row + c] * (x[row + c] - mean[c]) * inverse[c]
                        betaGradient[c] += dy[row + c]
                        dy[row + c] *= scale[c]
                    }
                }
            }
        }
        return LayerGradients(inputs: [inputGradient], learnables: gamma == nil ? [betaGradient] : [gammaGradient, betaGradient])
    }
}
