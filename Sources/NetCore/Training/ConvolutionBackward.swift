/// Backward passes of the 2-D convolutions on the inference products: for a chunk of images, the im2col matrix `X` of
/// the forward pass gives `∂L/∂W += Xᵀ · ∂L/∂Y` and `∂L/∂X = ∂L/∂Y · Wᵀ`, which col2im adds back onto the input's pixels.
extension Conv2D: Backpropagating {
    public var learnables: [[Float]] { hasBias ? [weights, bias] : [weights] }

    public mutating func setLearnables(_ values: [[Float]]) {
        precondition(values.count == learnables.count, "Conv2D takes \(learnables.count) learnable arrays")
        setWeights(values[0], bias: hasBias ? values[1] : nil)
    }

    /// The most floats of one im2col chunk (and as many of its gradient): 16 MB each.
    static let backwardChunkFloats = 4 << 20

    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        precondition(activation.gradientFollowsFromOutput, "a \(activation.name) fused into Conv2D cannot pass gradients back")
        let dy = activation.gradient(input: output, output: output, outputGradient: outputGradient)
        let input = inputs[0], batch = input.shape[0]
        let g = geometry(Array(input.shape.dropFirst()))
        let pixels = g.outputHeight * g.outputWidth, imageSize = g.inputHeight * g.inputWidth * inputChannels
        let (cg, og, depth, cout) = (inputChannels / groups, outputChannels / groups, self.depth, outputChannels)
        // Images share one product (a long inner dimension for the weight gradient), each core its own chunks.
        let perChunk = max(1, min((batch + Parallel.threadCount - 1) / Parallel.threadCount, Self.backwardChunkFloats / max(1, pixels * depth)))
        let chunks = (batch + perChunk - 1) / perChunk
        let (inputGradient, weightGradient) = convolutionGradients(input: input, outputGradient: dy, weights: weights, items: chunks,
                                                                   scratch: 2 * perChunk * pixels * depth) { chunk, x, d, w, dx, dw, scratch in
            let first = chunk * perChunk, images = min(perChunk, batch - first), rows = images * pixels
            let columns = scratch, columnGradient = scratch + perChunk * pixels * depth
            let dyChunk = d + first * pixels * cout
            for group in 0..<groups {
                g.im2col(x, inputChannels: inputChannels, into: columns, rowStride: depth, firstRow: first * pixels,
                         rows: rows, channelOffset: group * cg, channels: cg, padding: 0)
                GEMM.serial(m: depth, n: og, k: rows, a: columns, lda: depth, transposeA: true,
                            b: dyChunk + group * og, ldb: cout, transposeB: false, c: dw + group * og, ldc: cout, beta: 1)
                GEMM.serial(m: rows, n: depth, k: og, a: dyChunk + group * og, lda: cout, transposeA: false,
                            b: w + group * og, ldb: cout, transposeB: true, c: columnGradient, ldc: depth)
                for image in 0..<images {
                    g.col2imAdding(columnGradient + image * pixels * depth, into: dx + (first + image) * imageSize,
                                   inputChannels: inputChannels, channelOffset: group * cg, channels: cg)
                }
            }
        }
        var learnableGradients = [weightGradient]
        if hasBias { learnableGradients.append(dy.channelSums(channels: cout)) }
        return LayerGradients(inputs: [inputGradient], learnables: learnableGradients)
    }
}

extension DepthwiseConv2D: Backpropagating {
    public var learnables: [[Float]] { hasBias ? [weights, bias] : [weights] }

    public mutating func setLearnables(_ values: [[Float]]) {
        precondition(values.count == learnables.count, "DepthwiseConv2D takes \(learnables.count) learnable arrays")
        weights = values[0]
        if hasBias { bias = values[1] }
    }

    /// Tap by tap: output channel `c·multiplier + m` adds `w · x[c]`, so `∂L/∂w` gathers `x[c] · ∂L/∂y` and `∂L/∂x[c]`
    /// gathers `w · ∂L/∂y` over the window positions.
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        precondition(activation.gradientFollowsFromOutput, "a \(activation.name) fused into DepthwiseConv2D cannot pass gradients back")
        let dy = activation.gradient(input: output, output: output, outputGradient: outputGradient)
        let input = inputs[0], batch = input.shape[0]
        let g = geometry(Array(input.shape.dropFirst()))
        let (cin, cout, mult) = (channels, outputChannels, multiplier)
        let (inputGradient, weightGradient) = convolutionGradients(input: input, outputGradient: dy, weights: weights, items: batch,
                                                                   scratch: 0) { image, x, d, w, dx, dw, _ in
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let gradient = d + ((image * g.outputHeight + oy) * g.outputWidth + ox) * cout
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                        guard iy >= 0 && iy < g.inputHeight else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                            guard ix >= 0 && ix < g.inputWidth else { continue }
                            let pixel = ((image * g.inputHeight + iy) * g.inputWidth + ix) * cin
                            let tap = (ky * g.kernelWidth + kx) * cout
                            let xs = x + pixel, dxs = dx + pixel, ws = w + tap, dws = dw + tap
                            if mult == 1 {
                                for c in 0..<cout {
                                    dws[c] += xs[c] * gradient[c]
                                    dxs[c] += ws[c] * gradient[c]
                                }
                            } else {
                                for c in 0..<cout {
                                    dws[c] += xs[c / mult] * gradient[c]
                                    dxs[c / mult] += ws[c] * gradient[c]
                                }
                            }
                        }
                    }
                }
            }
        }
        var learnableGradients = [weightGradient]
        if hasBias { learnableGradients.append(dy.channelSums(channels: cout)) }
        return LayerGradients(inputs: [inputGradient], learnables: learnableGradients)
    }
}

extension WindowGeometry {
    /// The adjoint of ``im2col(_:inputChannels:into:rowStride:firstRow:rows:channelOffset:channels:padding:)`` for one
    /// image: adds each row of `columns` (an output pixel's taps × `channels`) onto the input pixels it was read from,
    /// channels `channelOffset…` of `image` (NHWC, `inputChannels` wide); taps in the padding are dropped.
    func col2imAdding(_ columns: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, inputChannels: Int,
                      channelOffset: Int, channels: Int) {
        var source = columns
        for oy in 0..<outputHeight {
            for ox in 0..<outputWidth {
                for ky in 0..<kernelHeight {
                    let iy = oy * strideY - padTop + ky * dilationY
                    for kx in 0..<kernelWidth {
                        let ix = ox * strideX - padLeft + kx * dilationX
                        if iy >= 0 && iy < inputHeight && ix >= 0 && ix < inputWidth {
                            let target = image + (iy * inputWidth + ix) * inputChannels + channelOffset
                            for c in 0..<channels { target[c] += source[c] }
                        }
                        source += channels
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// The sum over every position of each channel (the last axis): a bias's gradient.
    func channelSums(channels: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: channels)
        scalars.withUnsafeBufferPointer { values in
            for row in stride(from: 0, to: values.count, by: channels) {
                for c in 0..<channels { sums[c] += values[row + c] }
            }
        }
        return sums
    }
}

/// A convolution's `∂L/∂x` and `∂L/∂W`: `body(item, x, ∂L/∂y, W, ∂L/∂x, ∂L/∂W, scratch)` for items `0..<items` (images,
/// or chunks of them, each adding into its own images' `∂L/∂x`) on at most ``Parallel/threadCount`` workers, each with
/// its own zeroed `∂L/∂W` accumulator, summed at the end, and `scratch` floats of scratch.
func convolutionGradients(input: Tensor, outputGradient: Tensor, weights: [Float], items: Int, scratch: Int,
                          _ body: @Sendable (_ item: Int, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                             _ dx: UnsafeMutablePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                             _ scratch: UnsafeMutablePointer<Float>) -> Void) -> (input: Tensor, weights: [Float]) {
    let count = weights.count, workers = max(1, min(Parallel.threadCount, items))
    var inputGradient = [Float](repeating: 0, count: input.count), accumulators = [Float](repeating: 0, count: workers * count)
    input.scalars.withUnsafeBufferPointer { xBuffer in
        outputGradient.scalars.withUnsafeBufferPointer { dyBuffer in
            weights.withUnsafeBufferPointer { wBuffer in
                inputGradient.withUnsafeMutableBufferPointer { dxBuffer in
                    accumulators.withUnsafeMutableBufferPointer { sumsBuffer in
                        let x = SharedReadPointer(xBuffer.baseAddress!), d = SharedReadPointer(dyBuffer.baseAddress!)
                        let w = SharedReadPointer(wBuffer.baseAddress!), dx = SharedPointer(dxBuffer.baseAddress!)
                        let sums = SharedPointer(sumsBuffer.baseAddress!)
                        Parallel.forEach(workers) { worker in
                            let space = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratch))
                            defer { space.deallocate() }
                            for item in stride(from: worker, to: items, by: workers) {
                                body(item, x.base, d.base, w.base, dx.base, sums.base + worker * count, space)
                            }
                        }
                    }
                }
            }
        }
    }
    var total = Array(accumulators[0..<count])
    for worker in 1..<workers {
        for i in 0..<count { total[i] += accumulators[worker * count + i] }
    }
    return (Tensor(shape: input.shape, scalars: inputGradient), total)
}
