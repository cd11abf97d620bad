import Foundation

// Backward passes of the layers without learnables that map elements one to one, sum, join or reorder them.

extension ActivationLayer: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [activation.gradient(input: inputs[0], output: output, outputGradient: outputGradient)])
    }
}

/// `∂L/∂x = y ⊙ (∂L/∂y − Σ y·∂L/∂y)` per row; for the logarithm `∂L/∂y − softmax(x)·Σ ∂L/∂y`.
extension Softmax: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let width = output.shape.last ?? 1
        var dx = outputGradient
        output.scalars.withUnsafeBufferPointer { y in
            dx.scalars.withUnsafeMutableBufferPointer { d in
                for row in stride(from: 0, to: d.count, by: max(width, 1)) {
                    if logarithm {
                        var total: Float = 0
                        for i in row..<row + width { total += d[i] }
                        for i in row..<row + width { d[i] -= Foundation.exp(y[i]) * total }
                    } else {
                        var dot: Float = 0
                        for i in row..<row + width { dot += y[i] * d[i] }
                        for i in row..<row + width { d[i] = y[i] * (d[i] - dot) }
                    }
                }
            }
        }
        return LayerGradients(inputs: [dx])
    }
}

/// Every addend receives the sum's gradient (through the fused activation first).
extension Add: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        precondition(activation.gradientFollowsFromOutput, "a \(activation.name) fused into Add cannot pass gradients back")
        let gradient = activation.gradient(input: output, output: output, outputGradient: outputGradient)
        return LayerGradients(inputs: inputs.map { _ in gradient })
    }
}

/// Each input receives its slice of the gradient along the joined axis.
extension Concat: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let a = resolvedAxis(rank: output.shape.count - 1) + 1
        let outer = output.shape[..<a].reduce(1, *)
        let blocks = inputs.map { $0.shape[a...].reduce(1, *) }
        let width = blocks.reduce(0, +)
        var offset = 0
        let gradients = zip(inputs, blocks).map { input, block in
            defer { offset += block }
            return Tensor(shape: input.shape) { target in
                outputGradient.scalars.withUnsafeBufferPointer { source in
                    for o in 0..<outer where block > 0 {
                        (target.baseAddress! + o * block).update(from: source.baseAddress! + o * width + offset, count: block)
                    }
                }
            }
        }
        return LayerGradients(inputs: gradients)
    }
}

extension Flatten: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [outputGradient.reshaped(inputs[0].shape)])
    }
}

extension Reshape: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [outputGradient.reshaped(inputs[0].shape)])
    }
}

/// The gradient goes back through the inverse permutation.
extension Permute: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (position, axis) in axes.enumerated() { inverse[axis] = position }
        return LayerGradients(inputs: [outputGradient.permuted([0] + inverse.map { $0 + 1 })])
    }
}

/// Dropout as inference runs it (PyTorch's `eval()`): the identity.
extension Dropout: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [outputGradient.reshaped(inputs[0].shape)])
    }
}

/// Shuffling `C` channels in `g` groups is undone by shuffling them in `C/g` groups.
extension ChannelShuffle: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [ChannelShuffle(groups: (output.shape.last ?? groups) / groups).forward([outputGradient])])
    }
}
