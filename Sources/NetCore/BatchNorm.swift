import Foundation

/// Inference batch normalization over the last (channel) axis:
/// `y = (x − mean) / sqrt(variance + ε) · γ + β`, stored as a per-channel scale and shift.
/// ``Graph`` folds it into a preceding convolution or dense layer at load when it can.
public struct BatchNorm: Layer {
    public let scale: [Float]
    public let shift: [Float]
    /// Learnable parameters: γ (when present) and β per channel. The running mean and variance are state,
    /// not learnables, as MATLAB's analyzeNetwork and Keras' trainable count treat them.
    public let parameterCount: Int

    /// From γ, β, running mean and variance; `gamma` nil means no scale (Keras `scale=False`).
    public init(gamma: [Float]?, beta: [Float], mean: [Float], variance: [Float], epsilon: Float) {
        let channels = beta.count
        precondition(mean.count == channels && variance.count == channels && (gamma?.count ?? channels) == channels)
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let s = Float(Double(gamma?[c] ?? 1) / (Double(variance[c]) + Double(epsilon)).squareRoot())
            scale[c] = s
            shift[c] = beta[c] - mean[c] * s
        }
        self.scale = scale
        self.shift = shift
        parameterCount = channels * (gamma == nil ? 1 : 2)
    }

    public var typeName: String { "BatchNorm" }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        guard inputs[0].last == scale.count else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "[…, \(scale.count)]", got: inputs[0])
        }
        return inputs[0]
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { inputs[0].reduce(1, *) }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let channels = scale.count, rows = output.count / max(channels, 1)
        guard rows > 0 else { return }
        inputs[0].scalars.withUnsafeBufferPointer { input in
            scale.withUnsafeBufferPointer { scale in
                shift.withUnsafeBufferPointer { shift in
                    output.scalars.withUnsafeMutableBufferPointer { values in
                        let source = SharedReadPointer(input.baseAddress!), target = SharedPointer(values.baseAddress!)
                        let s = SharedReadPointer(scale.baseAddress!), t = SharedReadPointer(shift.baseAddress!)
                        Parallel.forEachShare(of: rows) { share in
                            for row in share {
                                let from = source.base + row * channels, to = target.base + row * channels
                                for c in 0..<channels { to[c] = from[c] * s.base[c] + t.base[c] }
                            }
                        }
                    }
                }
            }
        }
    }
}
