import Foundation

/// Cross-channel local response normalization (AlexNet, GoogLeNet):
/// `b_c = a_c / (k + α/n · Σ a_j²)^β` over the `n` channels centred on c (PyTorch's `LocalResponseNorm`,
/// MATLAB's `crossChannelNormalizationLayer`).
public struct LocalResponseNorm: Layer {
    public let size: Int
    public let alpha: Float, beta: Float, k: Float
    public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
        (self.size, self.alpha, self.beta, self.k) = (size, alpha, beta, k)
    }
    public var typeName: String { "LocalResponseNorm" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        return inputs[0]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let channels = output.shape.last!
        let before = size / 2, after = (size - 1) / 2
        let input = inputs[0].scalars
        for base in stride(from: 0, to: output.count, by: channels) {
            for c in 0..<channels {
                var sum: Float = 0
                for j in max(0, c - before)...min(channels - 1, c + after) { sum += input[base + j] * input[base + j] }
                output.scalars[base + c] = input[base + c] / Foundation.pow(k + alpha / Float(size) * sum, beta)
            }
        }
    }
}
