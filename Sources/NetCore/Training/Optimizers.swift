import Foundation

/// Updates parameters from their gradients, one step at a time; parameters and gradients are lists of flat arrays
/// in one fixed order (a head's `W₁, b₁, W₂, b₂`).
public protocol Optimizer: Sendable {
    /// The step size, which a schedule may change between steps.
    var learningRate: Float { get set }
    mutating func step(_ parameters: inout [[Float]], gradients: [[Float]])
}

/// Adam (Kingma & Ba 2015) exactly as `torch.optim.Adam` computes it: weight decay added to the gradient (L2), then
/// `p −= (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`; or, `decoupled`, as `torch.optim.AdamW` does (Loshchilov &
/// Hutter 2019): `p −= lr · weightDecay · p` first, the gradient left as it is.
public struct Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// Whether the weight decay shrinks the parameters directly (AdamW) rather than joining the gradient.
    public let decoupled: Bool
    private var m: [[Float]] = [], v: [[Float]] = []
    private var steps = 0

    /// torch's defaults: β = (0.9, 0.999), ε = 1e-8, no weight decay (AdamW's own default decay is 0.01).
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                decoupled: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public mutating func step(_ parameters: inout [[Float]], gradients: [[Float]]) {
        if m.isEmpty {
            m = parameters.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        steps += 1
        let correction1 = 1 - pow(beta1, Float(steps)), correction2 = (1 - pow(beta2, Float(steps))).squareRoot()
        let stepSize = learningRate / correction1
        let (beta1, beta2, epsilon) = (beta1, beta2, epsilon)
        let coupledDecay = decoupled ? 0 : weightDecay, shrink = decoupled ? 1 - learningRate * weightDecay : 1
        for p in parameters.indices {
            parameters[p].withUnsafeMutableBufferPointer { w in
                m[p].withUnsafeMutableBufferPointer { m in
                    v[p].withUnsafeMutableBufferPointer { v in
                        gradients[p].withUnsafeBufferPointer { gradient in
                            let count = w.count
                            guard count > 0 else { return }
                            let (w, m, v, gradient) = (SharedPointer(w.baseAddress!), SharedPointer(m.baseAddress!), SharedPointer(v.baseAddress!),
                                                       SharedReadPointer(gradient.baseAddress!))
                            // Element-wise, so a large array (a fine-tuned backbone's) shares out over the cores.
                            Parallel.forEachShare(of: count, granule: 1 << 14) { share in
                                for i in share {
                                    w.base[i] *= shrink
                                    let g = gradient.base[i] + coupledDecay * w.base[i]
                                    m.base[i] = beta1 * m.base[i] + (1 - beta1) * g
                                    v.base[i] = beta2 * v.base[i] + (1 - beta2) * g * g
                                    w.base[i] -= stepSize * m.base[i] / (v.base[i].squareRoot() / correction2 + epsilon)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Stochastic gradient descent with momentum as `torch.optim.SGD` computes it (no dampening, not Nesterov): weight
/// decay added to the gradient, the momentum buffer starts as the first gradient, `p −= lr · buffer`.
public struct SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    private var buffers: [[Float]] = []

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public mutating func step(_ parameters: inout [[Float]], gradients: [[Float]]) {
        let first = buffers.isEmpty
        if first { buffers = parameters.map { [Float](repeating: 0, count: $0.count) } }
        for p in parameters.indices {
            for i in parameters[p].indices {
                let g = gradients[p][i] + weightDecay * parameters[p][i]
                buffers[p][i] = first ? g : momentum * buffers[p][i] + g
                parameters[p][i] -= learningRate * buffers[p][i]
            }
        }
    }
}
