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

    /// A training step's dropout (PyTorch's `train()`): each value kept with probability `1 − rate` and scaled by
    /// `1/(1 − rate)`, or zeroed. Returns the output and each value's factor (0 or `1/(1 − rate)`), by which the
    /// backward pass (``backward(outputGradient:factors:)``) multiplies the gradient.
    public func trainingForward(_ x: Tensor, using generator: inout SplitMix64) -> (output: Tensor, factors: Tensor) {
        let keep = 1 / (1 - rate)
        let factors = Tensor(shape: x.shape, scalars: (0..<x.count).map { _ in Float.random(in: 0..<1, using: &generator) < rate ? 0 : keep })
        return (Tensor(shape: x.shape, scalars: zip(x.scalars, factors.scalars).map(*)), factors)
    }

    /// `∂L/∂x = ∂L/∂y · factor` with a ``trainingForward(_:using:)``'s factors.
    public func backward(outputGradient: Tensor, factors: Tensor) -> LayerGradients {
        LayerGradients(inputs: [Tensor(shape: factors.shape, scalars: zip(outputGradient.scalars, factors.scalars).map(*))])
    }
}

/// Shuffling `C` channels in `g` groups is undone by shuffling them in `C/g` groups.
extension ChannelShuffle: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [ChannelShuffle(groups: (output.shape.last ?? groups) / groups).forward([outputGradient])])
    }
}

/// `y = a ⊙ b` with broadcasting: `∂L/∂a = ∂L/∂y ⊙ b` and `∂L/∂b = ∂L/∂y ⊙ a`, each summed over the axes its operand
/// was broadcast along (squeeze-and-excite's channel scales gather over the positions).
extension Multiply: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let (a, b) = (inputs[0], inputs[1])
        let offsetsA = output.broadcastOffsets(of: a.shape), offsetsB = output.broadcastOffsets(of: b.shape)
        var da = [Float](repeating: 0, count: a.count), db = [Float](repeating: 0, count: b.count)
        for i in 0..<output.count {
            let g = outputGradient.scalars[i]
            da[offsetsA[i]] += g * b.scalars[offsetsB[i]]
            db[offsetsB[i]] += g * a.scalars[offsetsA[i]]
        }
        return LayerGradients(inputs: [Tensor(shape: a.shape, scalars: da), Tensor(shape: b.shape, scalars: db)])
    }
}

extension Tensor {
    /// For each element of this tensor, the index of the element of a tensor of `shape` broadcast to it (NumPy's rule,
    /// shapes aligned at their last axis).
    func broadcastOffsets(of operand: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: shape.count - operand.count) + operand
        var steps = [Int](repeating: 0, count: shape.count), step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            steps[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        var offsets = [Int](repeating: 0, count: count), index = [Int](repeating: 0, count: shape.count), offset = 0
        for i in 0..<count {
            offsets[i] = offset
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                index[axis] += 1
                offset += steps[axis]
                if index[axis] < shape[axis] { break }
                offset -= steps[axis] * index[axis]
                index[axis] = 0
            }
        }
        return offsets
    }
}

/// The slice's gradient goes back to its channels; the others receive none.
extension ChannelSlice: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        var gradient = Tensor(zeros: inputs[0].shape)
        let channels = inputs[0].shape.last!
        for (row, base) in stride(from: 0, to: gradient.count, by: channels).enumerated() {
            gradient.scalars.replaceSubrange(base + range.lowerBound..<base + range.upperBound,
                                             with: outputGradient.scalars[row * range.count..<(row + 1) * range.count])
        }
        return LayerGradients(inputs: [gradient])
    }
}

/// Padding's gradient is the output gradient cropped back to the input (and a crop's is padded back with zeros): the
/// same layer with the sides negated.
extension ZeroPad2D: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        LayerGradients(inputs: [ZeroPad2D(top: -top, bottom: -bottom, left: -left, right: -right).forward([outputGradient])])
    }
}

/// With `dᵢ = k + α/n · Σⱼ∈window(i) xⱼ²` and `yᵢ = xᵢ · dᵢ^−β`:
/// `∂L/∂xᵢ = ∂L/∂yᵢ · dᵢ^−β − (2αβ/n) · xᵢ · Σⱼ: i∈window(j) ∂L/∂yⱼ · yⱼ / dⱼ`.
extension LocalResponseNorm: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let channels = output.shape.last!, before = size / 2, after = (size - 1) / 2
        let x = inputs[0].scalars, y = output.scalars, dy = outputGradient.scalars
        var dx = [Float](repeating: 0, count: x.count), weighted = [Float](repeating: 0, count: channels)
        for base in stride(from: 0, to: x.count, by: channels) {
            for c in 0..<channels {
                var sum: Float = 0
                for j in max(0, c - before)...min(channels - 1, c + after) { sum += x[base + j] * x[base + j] }
                let d = k + alpha / Float(size) * sum
                weighted[c] = dy[base + c] * y[base + c] / d
                dx[base + c] = dy[base + c] * Foundation.pow(d, -beta)
            }
            // Channel c is in the window of channels c − after … c + before.
            for c in 0..<channels {
                var sum: Float = 0
                for j in max(0, c - after)...min(channels - 1, c + before) { sum += weighted[j] }
                dx[base + c] -= 2 * alpha * beta / Float(size) * x[base + c] * sum
            }
        }
        return LayerGradients(inputs: [Tensor(shape: inputs[0].shape, scalars: dx)])
    }
}
