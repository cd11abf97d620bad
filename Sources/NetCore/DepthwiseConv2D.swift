import CKernels

/// Depthwise 2-D convolution on NHWC tensors (one filter per input channel, `multiplier` outputs each),
/// vectorized over channels.
public struct DepthwiseConv2D: SlidingWindow {
    public let channels: Int
    public let multiplier: Int
    public let kernel: (height: Int, width: Int)
    public let stride: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let padding: Padding
    /// Weights `[kh, kw, channels · multiplier]`; output channel `c·multiplier + m` reads input channel `c`
    /// (TensorFlow's `[kh, kw, channels, multiplier]` flattened).
    public internal(set) var weights: [Float]
    public internal(set) var bias: [Float]
    public var activation: Activation
    /// Whether the layer has a learnable bias (a bias-free convolution gains one when a BatchNorm is folded in).
    public private(set) var hasBias: Bool
    /// The range its output is written in as uint8 codes for the calibrated int8 layers reading it
    /// (``Network/exchangingCodes()``); nil when it writes floats.
    public private(set) var outputRange: ClosedRange<Float>?

    public init(channels: Int, multiplier: Int = 1, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                dilation: (Int, Int) = (1, 1), padding: Padding = .valid, weights: [Float]? = nil, bias: [Float]? = nil,
                activation: Activation = .identity) {
        self.channels = channels
        self.multiplier = multiplier
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.padding = padding
        let count = kernel.0 * kernel.1 * channels * multiplier
        self.weights = weights ?? [Float](repeating: 0, count: count)
        self.bias = bias ?? [Float](repeating: 0, count: channels * multiplier)
        self.activation = activation
        hasBias = bias != nil
        precondition(self.weights.count == count && self.bias.count == channels * multiplier, "weight or bias count mismatch")
    }

    public var typeName: String { "DepthwiseConv2D" }
    public var parameterCount: Int { weights.count + (hasBias ? bias.count : 0) }
    var outputChannels: Int { channels * multiplier }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try windowOutputShape(inputs, channels: channels, outputChannels: outputChannels)
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int {
        let g = geometry(inputs[0])
        return g.outputHeight * g.outputWidth * outputChannels * kernel.height * kernel.width
    }

    /// Folds a per-output-channel affine map (an inference BatchNorm) into the weights.
    public mutating func fold(scale: [Float], shift: [Float]) {
        hasBias = true
        for index in weights.indices { weights[index] *= scale[index % outputChannels] }
        for channel in 0..<outputChannels { bias[channel] = bias[channel] * scale[channel] + shift[channel] }
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let batch = input.shape[0]
        let g = geometry(Array(input.shape.dropFirst()))
        let codes = outputRange.map(Tensor.Quantization.init(codesOf:))
        output.codes = codes
        output.scalars.withUnsafeMutableBufferPointer { outBuffer in
            guard outBuffer.count > 0 else { return }
            input.scalars.withUnsafeBufferPointer { inBuffer in
                weights.withUnsafeBufferPointer { wBuffer in
                    bias.withUnsafeBufferPointer { bBuffer in
                        let source = SharedReadPointer(inBuffer.baseAddress!), w = SharedReadPointer(wBuffer.baseAddress!)
                        let b = SharedReadPointer(bBuffer.baseAddress!), out = SharedPointer(outBuffer.baseAddress!)
                        if let codes {
                            forwardWritingCodes(codes, source: source, weights: w, bias: b, output: out, geometry: g, batch: batch)
                        } else if multiplier == 1 {
                            forwardByKernel(source: source, weights: w, bias: b, output: out, geometry: g, batch: batch)
                        } else {
                            forwardWithMultiplier(source: source, weights: w, bias: b, output: out, geometry: g, batch: batch)
                        }
                    }
                }
            }
        }
    }

    /// One filter per channel: the SIMD kernel, over shares of the output rows; activations other than
    /// a clamp run afterwards.
    private func forwardByKernel(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>, bias b: SharedReadPointer<Float>,
                                 output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        var shape = g.kernelShape(inputChannels: channels, outputChannels: channels)
        withUnsafePointer(to: &shape) { pointer in
            let shape = SharedReadPointer(pointer)
            runRowKernel(rows: batch * g.outputHeight, rowSize: g.outputWidth * channels, activation: activation, output: out) {
                first, count, low, high in
                an_depthwise(shape.base, source.base, w.base, b.base, first, count, low, high, out.base)
            }
        }
    }

    /// One filter per channel, its clamped output written as uint8 `codes` (``writingCodes(in:)``), over shares of the
    /// output rows.
    private func forwardWritingCodes(_ codes: Tensor.Quantization, source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                     bias b: SharedReadPointer<Float>, output out: SharedPointer<Float>, geometry g: WindowGeometry,
                                     batch: Int) {
        guard let (low, high) = activation.clampBounds else { preconditionFailure("codes are written after a clamp") }
        var shape = g.kernelShape(inputChannels: channels, outputChannels: channels)
        withUnsafePointer(to: &shape) { pointer in
            let shape = SharedReadPointer(pointer), lineSize = g.outputWidth * channels
            let bytes = SharedPointer(UnsafeMutableRawPointer(out.base).assumingMemoryBound(to: UInt8.self))
            Parallel.forEachShare(of: batch * g.outputHeight) { share in
                let line = UnsafeMutablePointer<Float>.allocate(capacity: lineSize)
                defer { line.deallocate() }
                an_depthwise_codes(shape.base, source.base, w.base, b.base, Int32(share.lowerBound), Int32(share.count), low, high,
                                   1 / codes.scale, codes.zero, line, bytes.base)
            }
        }
    }

    /// Several filters per channel (`multiplier` > 1): a plain loop over channels.
    private func forwardWithMultiplier(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>, bias b: SharedReadPointer<Float>,
                                       output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        let cout = outputChannels, cin = channels, mult = multiplier
        Parallel.forEach(batch * g.outputHeight) { row in
            let image = row / g.outputHeight, oy = row % g.outputHeight
            let line = out.base + row * g.outputWidth * cout
            for ox in 0..<g.outputWidth { (line + ox * cout).update(from: b.base, count: cout) }
            for ky in 0..<g.kernelHeight {
                let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                guard iy >= 0 && iy < g.inputHeight else { continue }
                let inputRow = source.base + (image * g.inputHeight + iy) * g.inputWidth * cin
                for kx in 0..<g.kernelWidth {
                    let tap = w.base + (ky * g.kernelWidth + kx) * cout
                    for ox in 0..<g.outputWidth {
                        let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                        guard ix >= 0 && ix < g.inputWidth else { continue }
                        let pixel = inputRow + ix * cin, target = line + ox * cout
                        for c in 0..<cout { target[c] += pixel[c / mult] * tap[c] }
                    }
                }
            }
            activation.apply(line, count: g.outputWidth * cout)
        }
    }
}

extension DepthwiseConv2D: CodeExchanging {
    /// It reads floats only.
    var calibratedInputRange: ClosedRange<Float>? { nil }
    func readsCodes(at position: Int) -> Bool { false }
    /// One filter per channel and a clamp (applied before its output is quantized): the first block of MobileNetV2, whose
    /// projection then reads codes instead of quantizing floats again.
    var canWriteCodes: Bool { multiplier == 1 && activation.clampBounds != nil }

    /// This layer writing its output as uint8 codes of `range` (widened to contain 0).
    func writingCodes(in range: ClosedRange<Float>) -> DepthwiseConv2D {
        var result = self
        result.outputRange = min(range.lowerBound, 0)...max(range.upperBound, 0)
        return result
    }

    var writesCodes: Bool { outputRange != nil }
}
