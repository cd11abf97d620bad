import Foundation

/// What a layer's backward pass gives: the loss's gradient with respect to each input and to each learnable array.
public struct LayerGradients: Sendable {
    /// `∂L/∂xᵢ` for each input, shaped as that input.
    public var inputs: [Tensor]
    /// `∂L/∂θ` for each of ``Backpropagating/learnables``, in its order and layout.
    public var learnables: [[Float]]

    public init(inputs: [Tensor], learnables: [[Float]] = []) {
        self.inputs = inputs
        self.learnables = learnables
    }
}

/// A layer that passes a loss's gradient back through itself (reverse-mode differentiation), for fine-tuning.
///
/// The backward pass is given what the forward pass saw and gave (`inputs`, `output`) and `∂L/∂output`; layers whose
/// derivative needs only one of them ignore the other. Learnable arrays are in the layer's own layout (HWIO
/// convolution weights, `[in, out]` dense weights), which an optimizer updates element by element.
public protocol Backpropagating: Layer {
    /// The learnable arrays in optimizer order (weights, then bias; γ, then β); empty for a layer without any.
    var learnables: [[Float]] { get }
    /// Sets new values of ``learnables`` (same counts) and makes again everything derived from them, in the buffers
    /// the layer has where it holds the only reference to them (a fine-tuned layer's values change at every step).
    mutating func setLearnables(_ values: [[Float]])
    /// `∂L/∂inputs` and `∂L/∂learnables` from the forward pass's inputs and output and `∂L/∂output`.
    func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients
}

extension Backpropagating {
    public var learnables: [[Float]] { [] }
    public mutating func setLearnables(_ values: [[Float]]) {
        precondition(values.isEmpty, "\(typeName) has no learnables")
    }

    /// The layer with new values of ``learnables`` (same counts), everything derived from them made again.
    public func replacingLearnables(_ values: [[Float]]) -> Self {
        var layer = self
        layer.setLearnables(values)
        return layer
    }
}

extension Activation {
    /// `∂L/∂x` of `y = f(x)` from `x`, `y` and `∂L/∂y`, with PyTorch's conventions at the kinks (ReLU passes nothing at
    /// 0, ReLU6 and Clip pass only strictly inside their bounds, hard-swish's slope is 0 below −3 and 1 above 3).
    public func gradient(input x: Float, output y: Float, outputGradient dy: Float) -> Float {
        switch self {
        case .identity: return dy
        case .relu: return x > 0 ? dy : 0
        case .relu6: return x > 0 && x < 6 ? dy : 0
        case .clip(let low, let high): return x > low && x < high ? dy : 0
        case .leakyReLU(let alpha): return x > 0 ? dy : alpha * dy
        case .sigmoid: return dy * y * (1 - y)
        case .tanh: return dy * (1 - y * y)
        case .swish:
            let s = 1 / (1 + Foundation.exp(-x))
            return dy * s * (1 + x * (1 - s))
        case .hardSigmoid(let alpha, let beta):
            let z = alpha * x + beta
            return z > 0 && z < 1 ? alpha * dy : 0
        case .hardSwish:
            if x < -3 { return 0 }
            if x > 3 { return dy }
            return dy * (2 * x + 3) / 6
        }
    }

    /// Applies ``gradient(input:output:outputGradient:)`` to every element: `∂L/∂x` shaped as `output`.
    func gradient(input: Tensor, output: Tensor, outputGradient: Tensor) -> Tensor {
        if self == .identity { return outputGradient }
        return Tensor(shape: output.shape) { dx in
            input.scalars.withUnsafeBufferPointer { x in
                output.scalars.withUnsafeBufferPointer { y in
                    outputGradient.scalars.withUnsafeBufferPointer { dy in
                        for i in dx.indices { dx[i] = gradient(input: x[i], output: y[i], outputGradient: dy[i]) }
                    }
                }
            }
        }
    }

    /// Whether ``gradient(input:output:outputGradient:)`` gives the same with the output passed as the input (so a layer
    /// with this activation fused in needs no copy of its pre-activation values): the ones whose kinks the output shows.
    var gradientFollowsFromOutput: Bool {
        switch self {
        case .identity, .relu, .relu6, .clip, .sigmoid, .tanh: return true
        case .leakyReLU(let alpha): return alpha > 0
        case .swish, .hardSigmoid, .hardSwish: return false
        }
    }
}
