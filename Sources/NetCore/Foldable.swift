/// A layer that can take over the activation that follows it (`Network.optimized()` fuses the pair).
public protocol ActivationFusable: Layer {
    /// The activation applied to the layer's output; `.identity` until one is fused.
    var activation: Activation { get set }
}

/// A linear layer that can also absorb the per-channel affine map of a following BatchNorm, as long as no
/// activation is fused yet: `y = scale · (W x + b) + shift` becomes new weights and bias.
public protocol Foldable: ActivationFusable {
    /// Scales each output channel's weights and bias by `scale`, then adds `shift` to the bias.
    mutating func fold(scale: [Float], shift: [Float])
}

extension Conv2D: Foldable {}
extension DepthwiseConv2D: Foldable {}
extension Dense: Foldable {}
extension Add: ActivationFusable {}

extension Conv1D: Foldable {
    public var activation: Activation {
        get { conv.activation }
        set { conv.activation = newValue }
    }

    public mutating func fold(scale: [Float], shift: [Float]) { conv.fold(scale: scale, shift: shift) }
}

extension Network {
    /// `first` followed by `second` as one layer, when the pair folds: a BatchNorm into the ``Foldable`` layer before
    /// it, an activation into the ``ActivationFusable`` layer before it, each only while that layer has no
    /// activation of its own.
    static func merge(_ first: any Layer, then second: any Layer) -> (any Layer)? {
        if let norm = second as? BatchNorm, var layer = first as? any Foldable, layer.activation == .identity {
            layer.fold(scale: norm.scale, shift: norm.shift)
            return layer
        }
        if let activation = (second as? ActivationLayer)?.activation, var layer = first as? any ActivationFusable,
           layer.activation == .identity {
            layer.activation = activation
            return layer
        }
        return nil
    }
}
