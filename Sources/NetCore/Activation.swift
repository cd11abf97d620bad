import CKernels
import Foundation

/// Element-wise activation functions, usable as a layer or fused into a convolution or dense layer.
public enum Activation: Sendable, Equatable {
    case identity, relu, relu6, sigmoid, tanh, swish
    case leakyReLU(alpha: Float)
    /// `min(max(x, low), high)` (ONNX Clip).
    case clip(low: Float, high: Float)
    /// `max(0, min(1, αx + β))` (ONNX HardSigmoid; PyTorch's is α = 1/6, β = 1/2).
    case hardSigmoid(alpha: Float, beta: Float)
    /// `x · max(0, min(1, x/6 + 1/2))` (MobileNetV3's h-swish).
    case hardSwish

    /// Applies the activation in place to `count` elements.
    public func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: return
        case .relu: for i in 0..<count { values[i] = max(values[i], 0) }
        case .relu6: for i in 0..<count { values[i] = min(max(values[i], 0), 6) }
        case .leakyReLU(let alpha): for i in 0..<count { values[i] = values[i] >= 0 ? values[i] : alpha * values[i] }
        case .sigmoid: an_sigmoid(values, count)
        case .tanh: for i in 0..<count { values[i] = Foundation.tanh(values[i]) }
        case .swish: an_swish(values, count)
        case .clip(let low, let high): for i in 0..<count { values[i] = min(max(values[i], low), high) }
        case .hardSigmoid(let alpha, let beta): for i in 0..<count { values[i] = max(0, min(1, alpha * values[i] + beta)) }
        case .hardSwish: for i in 0..<count { values[i] *= max(0, min(1, values[i] / 6 + 0.5)) }
        }
    }

    /// The activation as a clamp to `[low, high]` (identity, ReLU, ReLU6), which kernels fuse into their
    /// stores; nil for the others.
    public var clampBounds: (low: Float, high: Float)? {
        switch self {
        case .identity: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        case .clip(let low, let high): return (low, high)
        default: return nil
        }
    }

    /// Name shown in layer tables.
    public var name: String {
        switch self {
        case .identity: return "Identity"
        case .relu: return "ReLU"
        case .relu6: return "ReLU6"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .swish: return "Swish"
        case .leakyReLU: return "LeakyReLU"
        case .clip: return "Clip"
        case .hardSigmoid: return "HardSigmoid"
        case .hardSwish: return "HardSwish"
        }
    }
}

/// An activation as a stand-alone layer.
public struct ActivationLayer: Layer {
    public let activation: Activation
    public init(_ activation: Activation) { self.activation = activation }
    public var typeName: String { activation.name }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        return inputs[0]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let count = output.count
        guard count > 0 else { return }
        inputs[0].scalars.withUnsafeBufferPointer { input in
            output.scalars.withUnsafeMutableBufferPointer { buffer in
                let source = SharedReadPointer(input.baseAddress!), target = SharedPointer(buffer.baseAddress!)
                let chunk = 1 << 16
                Parallel.forEach((count + chunk - 1) / chunk) { index in
                    let first = index * chunk, size = min(chunk, count - first)
                    (target.base + first).update(from: source.base + first, count: size)
                    activation.apply(target.base + first, count: size)
                }
            }
        }
    }
}

/// Softmax over the last axis, or its logarithm (`x − max − log Σ exp(x − max)`, computed without the quotient).
public struct Softmax: Layer {
    public let logarithm: Bool
    public init(logarithm: Bool = false) { self.logarithm = logarithm }
    public var typeName: String { logarithm ? "LogSoftmax" : "Softmax" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        return inputs[0]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let width = output.shape.last ?? 1
        guard width > 0 else { return }
        let input = inputs[0].scalars
        output.scalars.withUnsafeMutableBufferPointer { values in
            for row in stride(from: 0, to: values.count, by: width) {
                var peak = -Float.infinity
                for i in row..<row + width { peak = max(peak, input[i]) }
                var sum: Float = 0
                for i in row..<row + width { values[i] = Foundation.exp(input[i] - peak); sum += values[i] }
                if logarithm {
                    let offset = peak + Foundation.log(sum)
                    for i in row..<row + width { values[i] = input[i] - offset }
                } else {
                    for i in row..<row + width { values[i] /= sum }
                }
            }
        }
    }
}
