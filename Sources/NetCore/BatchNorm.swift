import Foundation

/// Inference batch normalization over the last (channel) axis:
/// `y = (x − mean) / sqrt(variance + ε) · γ + β`, stored as a per-channel scale and shift.
/// ``Graph`` folds it into a preceding convolution or dense layer at load when it can.
public struct BatchNorm: Layer {
    /// γ per channel, nil when the layer has no scale (Keras `scale=False`); learnable.
    public private(set) var gamma: [Float]?
    /// β per channel; learnable.
    public private(set) var beta: [Float]
    /// The running mean and variance (state, not learnables; fine-tuning with batch statistics moves them).
    public private(set) var mean: [Float], variance: [Float]
    /// The ε added to the variance.
    public let epsilon: Float
    /// `γ / √(variance + ε)` and `β − mean · scale` per channel: the affine map the layer applies.
    public private(set) var scale: [Float]
    public private(set) var shift: [Float]
    /// Learnable parameters: γ (when present) and β per channel. The running mean and variance are state,
    /// not learnables, as MATLAB's analyzeNetwork and Keras' trainable count treat them.
    public var parameterCount: Int { beta.count * (gamma == nil ? 1 : 2) }

    /// From γ, β, running mean and variance; `gamma` nil means no scale (Keras `scale=False`).
    public init(gamma: [Float]?, beta: [Float], mean: [Float], variance: [Float], epsilon: Float) {
        let channels = beta.count
        precondition(mean.count == channels && variance.count == channels && (gamma?.count ?? channels) == channels)
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.variance = variance
        self.epsilon = epsilon
        (scale, shift) = ([], [])
        updateAffineMap()
    }

    /// `1 / √(variance + ε)` per channel, in double precision as the affine map is made.
    var inverseDeviation: [Float] {
        variance.map { Float(1 / (Double($0) + Double(epsilon)).squareRoot()) }
    }

    /// Replaces γ (when the layer has one) and β, and the affine map with them.
    public mutating func setLearnables(gamma newGamma: [Float]?, beta newBeta: [Float]) {
        precondition(newBeta.count == beta.count && (newGamma == nil) == (gamma == nil) && (newGamma?.count ?? beta.count) == beta.count)
        gamma = newGamma
        beta = newBeta
        updateAffineMap()
    }

    /// Replaces the running mean and variance, and the affine map with them.
    public mutating func setStatistics(mean newMean: [Float], variance newVariance: [Float]) {
        precondition(newMean.count == beta.count && newVariance.count == beta.count)
        mean = newMean
        variance = newVariance
        updateAffineMap()
    }

    private mutating func updateAffineMap() {
        let channels = beta.count
        scale = [Float](repeating: 0, count: channels)
        shift = scale
        for c in 0..<channels {
            let s = Float(Double(gamma?[c] ?? 1) / (Double(variance[c]) + Double(epsilon)).squareRoot())
            scale[c] = s
            shift[c] = beta[c] - mean[c] * s
        }
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
