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

/// BatchNorm in training mode (PyTorch's `train()`): each batch normalised with its own statistics over every position,
/// `y = x̂·γ + β` with `x̂ = (x − μ_B)/√(σ²_B + ε)`, and the running statistics moved toward them.
extension BatchNorm {
    /// The mean and biased variance of each channel over every position of `x` `[N, …, C]`, in double precision, and
    /// how many positions.
    func batchStatistics(_ x: Tensor) -> (mean: [Double], variance: [Double], count: Int) {
        let channels = beta.count, count = x.count / channels
        var mean = [Double](repeating: 0, count: channels), variance = mean
        x.scalars.withUnsafeBufferPointer { values in
            for row in stride(from: 0, to: values.count, by: channels) {
                for c in 0..<channels { mean[c] += Double(values[row + c]) }
            }
            for c in 0..<channels { mean[c] /= Double(count) }
            for row in stride(from: 0, to: values.count, by: channels) {
                for c in 0..<channels { let d = Double(values[row + c]) - mean[c]; variance[c] += d * d }
            }
        }
        return (mean, variance.map { $0 / Double(count) }, count)
    }

    /// `x̂` of `x` with its batch's `mean` and `variance`, and `1/√(σ²_B + ε)` per channel.
    func normalized(_ x: Tensor, mean: [Double], variance: [Double]) -> (normalized: Tensor, inverseDeviation: [Double]) {
        let channels = beta.count, inverse = variance.map { 1 / ($0 + Double(epsilon)).squareRoot() }
        var normalized = x
        normalized.scalars.withUnsafeMutableBufferPointer { values in
            for row in stride(from: 0, to: values.count, by: channels) {
                for c in 0..<channels { values[row + c] = Float((Double(values[row + c]) - mean[c]) * inverse[c]) }
            }
        }
        return (normalized, inverse)
    }

    /// The output with the batch's statistics; the running mean and variance move toward them by `momentum`
    /// (`r ← (1 − m)·r + m·s`, the variance unbiased, `n/(n − 1)`), as `torch.nn.BatchNorm2d` does.
    public mutating func trainingForward(_ x: Tensor, momentum: Float) -> Tensor {
        let (mean, variance, count) = batchStatistics(x)
        let unbiased = variance.map { $0 * Double(count) / Double(max(count - 1, 1)) }
        let m = Double(momentum)
        setStatistics(mean: zip(self.mean, mean).map { Float((1 - m) * Double($0) + m * $1) },
                      variance: zip(self.variance, unbiased).map { Float((1 - m) * Double($0) + m * $1) })
        var output = normalized(x, mean: mean, variance: variance).normalized
        let channels = beta.count
        output.scalars.withUnsafeMutableBufferPointer { values in
            for row in stride(from: 0, to: values.count, by: channels) {
                for c in 0..<channels { values[row + c] = values[row + c] * (gamma?[c] ?? 1) + beta[c] }
            }
        }
        return output
    }

    /// The gradients through the batch's statistics: `∂L/∂x = γ/σ_B · (∂L/∂y − mean(∂L/∂y) − x̂ · mean(∂L/∂y · x̂))`,
    /// `∂L/∂γ = Σ ∂L/∂y · x̂`, `∂L/∂β = Σ ∂L/∂y`, from the layer's input (its statistics computed again).
    public func trainingBackward(input: Tensor, outputGradient: Tensor) -> LayerGradients {
        let (mean, variance, _) = batchStatistics(input)
        let (normalized, inverse) = normalized(input, mean: mean, variance: variance)
        let channels = beta.count, count = Double(input.count / channels)
        var betaGradient = [Double](repeating: 0, count: channels), gammaGradient = betaGradient
        var inputGradient = outputGradient
        normalized.scalars.withUnsafeBufferPointer { xHat in
            inputGradient.scalars.withUnsafeMutableBufferPointer { dy in
                for row in stride(from: 0, to: dy.count, by: channels) {
                    for c in 0..<channels {
                        betaGradient[c] += Double(dy[row + c])
                        gammaGradient[c] += Double(dy[row + c]) * Double(xHat[row + c])
                    }
                }
                for row in stride(from: 0, to: dy.count, by: channels) {
                    for c in 0..<channels {
                        let centered = Double(dy[row + c]) - betaGradient[c] / count - Double(xHat[row + c]) * gammaGradient[c] / count
                        dy[row + c] = Float(Double(gamma?[c] ?? 1) * inverse[c] * centered)
                    }
                }
            }
        }
        let learnables = [gammaGradient.map { Float($0) }, betaGradient.map { Float($0) }]
        return LayerGradients(inputs: [inputGradient], learnables: gamma == nil ? [learnables[1]] : learnables)
    }
}
