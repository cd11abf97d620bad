/// The gradients of a ``Dense`` layer's loss with respect to its input and parameters.
public struct DenseGradients: Sendable {
    /// `∂L/∂x`, shaped as the input.
    public let input: Tensor
    /// `∂L/∂W` `[inputFeatures, outputFeatures]` and `∂L/∂b` `[outputFeatures]`.
    public let weights: [Float]
    public let bias: [Float]
}

extension Dense: Backpropagating {
    public var learnables: [[Float]] { [weights, bias] }

    public mutating func setLearnables(_ values: [[Float]]) {
        precondition(values.count == 2, "Dense takes its weights and bias")
        setWeights(values[0], bias: values[1])
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        precondition(activation.gradientFollowsFromOutput, "a \(activation.name) fused into Dense cannot pass gradients back")
        let g = gradients(input: inputs[0], outputGradient: activation.gradient(input: output, output: output, outputGradient: outputGradient))
        return LayerGradients(inputs: [g.input], learnables: [g.weights, g.bias])
    }

    /// Backward pass of `y = x·W + b` (before any activation) for rows `x` `[N, in]` and `∂L/∂y` `[N, out]`:
    /// `∂L/∂x = ∂L/∂y · Wᵀ`, `∂L/∂W = xᵀ · ∂L/∂y`, `∂L/∂b = Σ rows of ∂L/∂y`, on the inference GEMM.
    public func gradients(input: Tensor, outputGradient: Tensor) -> DenseGradients {
        let rows = input.count / inputFeatures
        precondition(outputGradient.count == rows * outputFeatures, "the output gradient must be [N, \(outputFeatures)]")
        var inputGradient = [Float](repeating: 0, count: input.count)
        var weightGradient = [Float](repeating: 0, count: weights.count)
        var biasGradient = [Float](repeating: 0, count: outputFeatures)
        input.scalars.withUnsafeBufferPointer { x in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weights.withUnsafeBufferPointer { w in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        GEMM.serial(m: rows, n: inputFeatures, k: outputFeatures, a: dy.baseAddress!, lda: outputFeatures, transposeA: false,
                                    b: w.baseAddress!, ldb: outputFeatures, transposeB: true, c: dx.baseAddress!, ldc: inputFeatures)
                    }
                }
                weightGradient.withUnsafeMutableBufferPointer { dw in
                    GEMM.serial(m: inputFeatures, n: outputFeatures, k: rows, a: x.baseAddress!, lda: inputFeatures, transposeA: true,
                                b: dy.baseAddress!, ldb: outputFeatures, transposeB: false, c: dw.baseAddress!, ldc: outputFeatures)
                }
                for row in 0..<rows { for o in 0..<outputFeatures { biasGradient[o] += dy[row * outputFeatures + o] } }
            }
        }
        return DenseGradients(input: Tensor(shape: input.shape, scalars: inputGradient), weights: weightGradient, bias: biasGradient)
    }
}

extension Activation {
    /// `∂L/∂x` of ReLU from its output `y` and `∂L/∂y`: the gradient passes where `y > 0`.
    public static func reluGradient(output: Tensor, outputGradient: Tensor) -> Tensor {
        Tensor(shape: output.shape, scalars: zip(output.scalars, outputGradient.scalars).map { $0 > 0 ? $1 : 0 })
    }
}
