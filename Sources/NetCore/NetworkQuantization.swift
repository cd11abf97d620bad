/// Numeric precision of a network's large matrix products.
public enum Precision: String, Sendable, CaseIterable {
    /// Float32 everywhere: the exact path, equal to the reference implementations within 1e-4.
    case float32
    /// Int8 dynamic-range quantization of the matrix products: 1×1 convolutions and dense layers (``Int8Linear``, a
    /// scale per row) and the convolutions computed by im2col or Winograd (``Int8Conv2D``, a scale per image).
    /// Several times faster on processors with AVX-512 VNNI; YAMNet's scores stay within 0.05 of float32.
    case int8
}

extension Network {
    /// This network with every 1×1 convolution and dense layer replaced by its ``Int8Linear`` form, and every ungrouped
    /// convolution planned as a matrix product (im2col or Winograd) by its ``Int8Conv2D`` form; direct kernels (few
    /// inputs, 1-D taps and FFT) stay float32. Fold BatchNorm and activations first (``optimized()``) so the quantized
    /// weights include them.
    public func int8Quantized() -> Network {
        var result = self
        for index in result.nodes.indices {
            let layer = result.nodes[index].layer
            if let conv = layer as? Conv2D, let quantized = Int8Linear(conv) {
                result.nodes[index].layer = quantized
            } else if let conv = layer as? Conv2D, [.im2col, .winograd].contains(conv.algorithm), let quantized = Int8Conv2D(conv) {
                result.nodes[index].layer = quantized
            } else if let dense = layer as? Dense {
                result.nodes[index].layer = Int8Linear(dense)
            }
        }
        return result
    }

    /// This network at `precision`, BatchNorm and activations folded, each expansion merged with the depthwise
    /// convolution that reads it (``fusingExpansions()``) and each projection with the residual addition after it
    /// (``fusingResiduals()``).
    public func prepared(for precision: Precision) -> Network {
        let folded = optimized()
        return (precision == .int8 ? folded.int8Quantized() : folded).fusingExpansions().fusingResiduals()
    }
}
