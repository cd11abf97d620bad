import CKernels

/// 2-D convolution on NHWC tensors, with groups, stride, dilation, TensorFlow or explicit padding,
/// bias and a fused activation. Runs as im2col + sgemm; a 1×1 stride-1 convolution is one plain GEMM.
public struct Conv2D: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: (height: Int, width: Int)
    public let stride: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let groups: Int
    public let padding: Padding
    /// Weights `[kh, kw, inputChannels / groups, outputChannels]` (TensorFlow's HWIO).
    public internal(set) var weights: [Float]
    /// Bias per output channel.
    public internal(set) var bias: [Float]
    public var activation: Activation
    /// Whether the layer has a learnable bias (a bias-free convolution gains one when a BatchNorm is folded in).
    public private(set) var hasBias: Bool
    /// Winograd-transformed weights, for 3×3 stride-1 convolutions wide enough to gain from them.
    private(set) var winograd: WinogradKernel?
    /// FFT convolutions for tall 1-D kernels (CREPE's 64 taps), made per input height on first use.
    private(set) var fftConvolutions = FFTConvolutionCache()

    /// Creates a convolution; `weights` are HWIO `[kh, kw, inputChannels / groups, outputChannels]`.
    public init(inputChannels: Int, outputChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                dilation: (Int, Int) = (1, 1), groups: Int = 1, padding: Padding = .valid,
                weights: [Float]? = nil, bias: [Float]? = nil, activation: Activation = .identity) {
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "channels must divide into groups")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.groups = groups
        self.padding = padding
        let count = kernel.0 * kernel.1 * (inputChannels / groups) * outputChannels
        self.weights = weights ?? [Float](repeating: 0, count: count)
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        self.activation = activation
        hasBias = bias != nil
        precondition(self.weights.count == count && self.bias.count == outputChannels, "weight or bias count mismatch")
        winograd = makeWinograd()
    }

    public var typeName: String { groups == 1 ? "Conv2D" : "GroupedConv2D" }
    public var parameterCount: Int { weights.count + (hasBias ? bias.count : 0) }

    /// Whether the convolution is a plain per-pixel linear map: 1×1, stride 1, ungrouped, unpadded.
    public var isPerPixelLinear: Bool {
        let unpadded: Bool
        switch padding {
        case .valid, .same: unpadded = true
        case .explicit(let top, let bottom, let left, let right): unpadded = top == 0 && bottom == 0 && left == 0 && right == 0
        }
        return kernel == (1, 1) && stride == (1, 1) && groups == 1 && unpadded
    }

    /// Rows of the im2col matrix: taps × input channels per group.
    var depth: Int { kernel.height * kernel.width * (inputChannels / groups) }

    func geometry(_ shape: [Int]) -> WindowGeometry {
        WindowGeometry(height: shape[0], width: shape[1], kernel: (kernel.height, kernel.width), stride: (stride.y, stride.x),
                       dilation: (dilation.y, dilation.x), padding: padding)
    }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 3)
        return try geometry(inputs[0]).outputShape(of: typeName, input: inputs[0], channels: inputChannels, outputChannels: outputChannels)
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int {
        let g = geometry(inputs[0])
        return g.outputHeight * g.outputWidth * outputChannels * depth
    }

    /// Folds a per-output-channel affine map `y·scale + shift` (an inference BatchNorm) into the weights.
    public mutating func fold(scale: [Float], shift: [Float]) {
        hasBias = true
        for index in weights.indices { weights[index] *= scale[index % outputChannels] }
        for channel in 0..<outputChannels { bias[channel] = bias[channel] * scale[channel] + shift[channel] }
        winograd = makeWinograd()
        fftConvolutions = FFTConvolutionCache()
    }

    /// Winograd pays off from about 16 channels in and out (below, the transforms cost more than they save).
    func makeWinograd() -> WinogradKernel? {
        guard kernel == (3, 3), stride == (1, 1), dilation == (1, 1), groups == 1, inputChannels >= 16, outputChannels >= 16 else {
            return nil
        }
        return WinogradKernel(weights: weights, inputChannels: inputChannels, outputChannels: outputChannels)
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let input = inputs[0]
        let (batch, height, width) = (input.shape[0], input.shape[1], input.shape[2])
        let g = geometry(Array(input.shape.dropFirst()))
        let rows = batch * g.outputHeight * g.outputWidth
        var output = Tensor(zeros: [batch, g.outputHeight, g.outputWidth, outputChannels])
        let pointwise = kernel == (1, 1) && stride == (1, 1) && groups == 1 && g.padTop == 0 && g.padLeft == 0
            && g.outputHeight == height && g.outputWidth == width
        input.scalars.withUnsafeBufferPointer { inBuffer in
            weights.withUnsafeBufferPointer { wBuffer in
                output.scalars.withUnsafeMutableBufferPointer { outBuffer in
                    let source = SharedReadPointer(inBuffer.baseAddress!)
                    let w = SharedReadPointer(wBuffer.baseAddress!)
                    let out = SharedPointer(outBuffer.baseAddress!)
                    if pointwise {
                        pointwiseByBlocks(source: source, weights: w, output: out, rows: rows)
                    } else if groups == 1 && inputChannels <= 4 && depth <= 64 {
                        // A stem (1 or 3 input channels, small kernel): an im2col GEMM would be only `depth` deep.
                        convolveFewInputs(source: source, weights: w, output: out, geometry: g, batch: batch)
                    } else if let winograd, width > 1 {
                        // The output transform adds the bias and applies a clamp activation; others run after.
                        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
                        bias.withUnsafeBufferPointer { b in
                            winograd.run(input: source, output: out, batch: batch, geometry: g, bias: SharedReadPointer(b.baseAddress!),
                                         low: low, high: high)
                        }
                        if bounds == nil { finishInParallel(out, rows: rows, addingBias: false) }
                    } else if width == 1 && kernel.width == 1 && stride == (1, 1) && dilation == (1, 1) && groups == 1
                                && kernel.height >= 16 && inputChannels * outputChannels >= 128 * 128 {
                        // Wide tall kernels: the FFT's transforms cost less than the taps they save.
                        let fft = fftConvolutions.convolution(height: height) {
                            FFTConvolution(weights: weights, taps: kernel.height, inputChannels: inputChannels,
                                           outputChannels: outputChannels, height: max(height + g.padTop, g.outputHeight))
                        }
                        fft.run(input: source.base, output: out.base, frames: batch, height: height, outputHeight: g.outputHeight,
                                padTop: g.padTop)
                        finishInParallel(out, rows: rows)
                    } else if width == 1 && kernel.width == 1 && stride.y == 1 && dilation == (1, 1) && groups == 1
                                && g.outputHeight >= 32 {
                        convolveByTaps(source: source, weights: w, output: out, geometry: g, batch: batch)
                    } else {
                        convolveByChunks(source: source, weights: w, output: out, geometry: g, rows: rows)
                    }
                }
            }
        }
        return output
    }

    /// A 1×1 convolution as a GEMM over blocks of rows, each finished (bias, activation) while it is still in
    /// cache; small products run as one parallel GEMM.
    private func pointwiseByBlocks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, rows: Int) {
        _ = GEMM.configure
        let blockRows = max(64, (256 * 1024) / (4 * max(inputChannels, outputChannels)))
        let blocks = (rows + blockRows - 1) / blockRows
        let workers = min(Parallel.threadCount, blocks)
        guard workers > 1 || blocks > 1 else {
            GEMM.parallel(m: rows, n: outputChannels, k: inputChannels, a: source.base, lda: inputChannels,
                          b: w.base, ldb: outputChannels, c: out.base, ldc: outputChannels)
            finishInParallel(out, rows: rows)
            return
        }
        Parallel.forEach(workers) { worker in
            var block = worker
            while block < blocks {
                let first = block * blockRows, count = min(blockRows, rows - first)
                GEMM.serial(m: count, n: outputChannels, k: inputChannels, a: source.base + first * inputChannels, lda: inputChannels,
                            b: w.base, ldb: outputChannels, c: out.base + first * outputChannels, ldc: outputChannels)
                finish(out.base + first * outputChannels, rows: count)
                block += workers
            }
        }
    }

    /// The direct kernel for few input channels, over shares of the output rows.
    private func convolveFewInputs(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        var shape = g.kernelShape(inputChannels: inputChannels, outputChannels: outputChannels)
        bias.withUnsafeBufferPointer { biasBuffer in
            withUnsafePointer(to: &shape) { pointer in
                let shape = SharedReadPointer(pointer), b = SharedReadPointer(biasBuffer.baseAddress!)
                runRowKernel(rows: batch * g.outputHeight, rowSize: g.outputWidth * outputChannels, activation: activation, output: out) {
                    first, count, low, high in
                    an_conv_few_inputs(shape.base, source.base, w.base, b.base, first, count, low, high, out.base)
                }
            }
        }
    }

    /// im2col over chunks of output pixels (sized to stay in cache), each followed by one sgemm per group.
    private func convolveByChunks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                  output out: SharedPointer<Float>, geometry g: WindowGeometry, rows: Int) {
        _ = GEMM.configure
        let groupInputs = inputChannels / groups, groupOutputs = outputChannels / groups
        let chunkRows = max(16, min(512, (64 * 1024) / depth))
        let chunks = (rows + chunkRows - 1) / chunkRows
        let workers = min(Parallel.threadCount, chunks)
        Parallel.forEach(workers) { worker in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunkRows * depth)
            defer { columns.deallocate() }
            var chunk = worker
            while chunk < chunks {
                let first = chunk * chunkRows, count = min(chunkRows, rows - first)
                for group in 0..<groups {
                    im2col(source.base, into: columns, firstRow: first, rows: count, geometry: g,
                           channelOffset: group * groupInputs, channels: groupInputs)
                    GEMM.serial(m: count, n: groupOutputs, k: depth, a: columns, lda: depth,
                                b: w.base + group * groupOutputs, ldb: outputChannels,
                                c: out.base + first * outputChannels + group * groupOutputs, ldc: outputChannels)
                }
                finish(out.base + first * outputChannels, rows: count)
                chunk += workers
            }
        }
    }

    /// A height-only convolution of width-1 images (CREPE's 1-D convolutions) as a sum over taps: the input
    /// rows a tap reads are consecutive, so each tap is one sgemm on the zero-padded image with no im2col.
    /// Used for tall outputs only: each sgemm has the output height as its row count.
    private func convolveByTaps(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        _ = GEMM.configure
        let channels = inputChannels, taps = kernel.height
        let paddedHeight = max(g.inputHeight + g.padTop, (g.outputHeight - 1) + taps)
        let workers = min(Parallel.threadCount, batch)
        Parallel.forEach(workers) { worker in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * channels)
            defer { padded.deallocate() }
            var image = worker
            while image < batch {
                padded.update(repeating: 0, count: paddedHeight * channels)
                (padded + g.padTop * channels).update(from: source.base + image * g.inputHeight * channels,
                                                      count: g.inputHeight * channels)
                let target = out.base + image * g.outputHeight * outputChannels
                for tap in 0..<taps {
                    GEMM.serial(m: g.outputHeight, n: outputChannels, k: channels, a: padded + tap * channels, lda: channels,
                                b: w.base + tap * channels * outputChannels, ldb: outputChannels,
                                c: target, ldc: outputChannels, beta: tap == 0 ? 0 : 1)
                }
                finish(target, rows: g.outputHeight)
                image += workers
            }
        }
    }

    /// Copies the receptive fields of output pixels `firstRow..<firstRow+rows` into a `[rows, depth]` matrix.
    private func im2col(_ input: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int,
                        geometry g: WindowGeometry, channelOffset: Int, channels: Int) {
        let pixelsPerImage = g.outputHeight * g.outputWidth
        for local in 0..<rows {
            let row = firstRow + local
            let image = row / pixelsPerImage, pixel = row % pixelsPerImage
            let oy = pixel / g.outputWidth, ox = pixel % g.outputWidth
            var destination = columns + local * depth
            for ky in 0..<g.kernelHeight {
                let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                for kx in 0..<g.kernelWidth {
                    let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                    if iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth {
                        let offset = ((image * g.inputHeight + iy) * g.inputWidth + ix) * inputChannels + channelOffset
                        destination.update(from: input + offset, count: channels)
                    } else {
                        destination.update(repeating: 0, count: channels)
                    }
                    destination += channels
                }
            }
        }
    }

    /// ``finish(_:rows:addingBias:)`` over all output rows, split across the cores.
    private func finishInParallel(_ output: SharedPointer<Float>, rows: Int, addingBias: Bool = true) {
        Parallel.forEachShare(of: rows) { share in
            finish(output.base + share.lowerBound * outputChannels, rows: share.count, addingBias: addingBias)
        }
    }

    /// Adds the bias (unless a kernel already did) and applies the activation to `rows` output pixels.
    private func finish(_ output: UnsafeMutablePointer<Float>, rows: Int, addingBias: Bool = true) {
        if addingBias {
            bias.withUnsafeBufferPointer { b in
                for row in 0..<rows {
                    let values = output + row * outputChannels
                    for channel in 0..<outputChannels { values[channel] += b[channel] }
                }
            }
        }
        activation.apply(output, count: rows * outputChannels)
    }
}
