import CKernels

/// Max or average pooling over 2-D windows of NHWC tensors.
public struct Pool2D: Layer {
    public enum Kind: Sendable { case max, average }
    public let kind: Kind
    public let kernel: (height: Int, width: Int)
    public let stride: (y: Int, x: Int)
    public let padding: Padding
    /// Average pooling: count padded positions in the divisor (PyTorch's default) or only real ones (TensorFlow's).
    public let countIncludesPadding: Bool
    /// PyTorch's `ceil_mode`: a last partial window is kept when it starts inside the padded input.
    public let ceilMode: Bool

    public init(_ kind: Kind, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding = .valid,
                countIncludesPadding: Bool = false, ceilMode: Bool = false) {
        self.kind = kind
        self.kernel = (kernel.0, kernel.1)
        let step = stride ?? kernel
        self.stride = (step.0, step.1)
        self.padding = padding
        self.countIncludesPadding = countIncludesPadding
        self.ceilMode = ceilMode
    }

    public var typeName: String { kind == .max ? "MaxPool2D" : "AveragePool2D" }

    /// Output size, padding before and the end of the padded extent along one axis.
    func axis(_ input: Int, _ k: Int, _ s: Int, _ axisIndex: Int) -> (output: Int, before: Int, paddedEnd: Int) {
        let (output, before) = padding.resolve(input: input, kernel: k, stride: s, dilation: 1, axis: axisIndex)
        let after = padding.pads(input: input, kernel: k, stride: s, axis: axisIndex).after
        guard ceilMode else { return (output, before, input + after) }
        let span = input + before + after - k
        var ceilOutput = (span + s - 1) / s + 1
        if (ceilOutput - 1) * s >= input + before { ceilOutput -= 1 }
        return (max(output, ceilOutput), before, input + after)
    }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 3)
        let h = axis(inputs[0][0], kernel.height, stride.y, 0), w = axis(inputs[0][1], kernel.width, stride.x, 1)
        guard h.output > 0, w.output > 0 else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "at least the window's extent", got: inputs[0])
        }
        return [h.output, w.output, inputs[0][2]]
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { 0 }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let h = axis(height, kernel.height, stride.y, 0), w = axis(width, kernel.width, stride.x, 1)
        guard output.count > 0 else { return }
        if let codes = input.codes { return maxOfCodes(input, height: height, width: width, h: h, w: w, codes: codes, into: &output) }
        let isMax = kind == .max, includePad = countIncludesPadding
        let (kh, kw, sy, sx) = (kernel.height, kernel.width, stride.y, stride.x)
        input.scalars.withUnsafeBufferPointer { inBuffer in
            output.scalars.withUnsafeMutableBufferPointer { outBuffer in
                let source = SharedReadPointer(inBuffer.baseAddress!), out = SharedPointer(outBuffer.baseAddress!)
                // Contiguous shares of rows, as the layer before wrote them: a core reads the rows its own cache holds
                // (row by row in turn, ResNet-50's max pooling ran 2.5 times slower on two cores than on one).
                Parallel.forEachShare(of: batch * h.output) { share in for row in share {
                    let image = row / h.output, oy = row % h.output
                    let y0 = oy * sy - h.before, y1 = min(y0 + kh, h.paddedEnd)
                    let validY = max(y0, 0)..<min(y1, height)
                    for ox in 0..<w.output {
                        let x0 = ox * sx - w.before, x1 = min(x0 + kw, w.paddedEnd)
                        let validX = max(x0, 0)..<min(x1, width)
                        let target = out.base + (row * w.output + ox) * channels
                        if isMax {
                            an_window_max(source.base + ((image * height + validY.lowerBound) * width + validX.lowerBound) * channels,
                                          width * channels, Int32(validY.count), Int32(validX.count), Int32(channels), target)
                        } else {
                            // The output pixel accumulates in place: loops over raw channels, which vectorize.
                            target.update(repeating: 0, count: channels)
                            for iy in validY {
                                for ix in validX {
                                    let pixel = source.base + ((image * height + iy) * width + ix) * channels
                                    for c in 0..<channels { target[c] += pixel[c] }
                                }
                            }
                            let area = includePad ? (y1 - y0) * (x1 - x0) : validY.count * validX.count
                            let inverse = 1 / Float(max(area, 1))
                            for c in 0..<channels { target[c] *= inverse }
                        }
                    }
                } }
            }
        }
    }
}

extension Pool2D: CodeReading {
    /// Max pooling reads uint8 codes and writes codes of the same scale: the codes of the window maxima, since a code
    /// grows with its value.
    func readsCodes(at position: Int) -> Bool { kind == .max && position == 0 }

    /// Max pooling over the bytes of `input`'s codes, a byte a value, the window's padding left out as in float32.
    private func maxOfCodes(_ input: Tensor, height: Int, width: Int, h: (output: Int, before: Int, paddedEnd: Int),
                            w: (output: Int, before: Int, paddedEnd: Int), codes: Tensor.Quantization, into output: inout Tensor) {
        precondition(kind == .max, "average pooling reads floats")
        let (batch, channels, kh, kw, sy, sx) = (input.shape[0], input.shape[3], kernel.height, kernel.width, stride.y, stride.x)
        input.scalars.withUnsafeBytes { inBuffer in
            output.scalars.withUnsafeMutableBytes { outBuffer in
                let source = SharedReadPointer(inBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                let out = SharedPointer(outBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                Parallel.forEachShare(of: batch * h.output) { share in for row in share {  // as the float rows
                    let image = row / h.output, oy = row % h.output
                    let y0 = oy * sy - h.before, validY = max(y0, 0)..<min(min(y0 + kh, h.paddedEnd), height)
                    for ox in 0..<w.output {
                        let x0 = ox * sx - w.before, validX = max(x0, 0)..<min(min(x0 + kw, w.paddedEnd), width)
                        // Code 0, the range's lowest value, for a window of padding only (float32's −∞).
                        let target = out.base + (row * w.output + ox) * channels
                        target.update(repeating: 0, count: channels)
                        for iy in validY {
                            for ix in validX {
                                let pixel = source.base + ((image * height + iy) * width + ix) * channels
                                for c in 0..<channels { target[c] = Swift.max(target[c], pixel[c]) }
                            }
                        }
                    }
                } }
            }
        }
        output.codes = codes
    }
}

/// Mean over every axis but the last: `[H, W, C]` (or `[L, C]`) → `[C]`.
public struct GlobalAveragePool: Layer {
    public init() {}
    public var typeName: String { "GlobalAveragePool" }
    /// Values a core sums at least when the cores share one image's positions, as ``Arithmetic``'s outputs.
    static let valuesPerCore = Arithmetic.valuesPerCore

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        guard let channels = inputs[0].last, inputs[0].count >= 2 else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "[…, C] of rank ≥ 2", got: inputs[0])
        }
        return [channels]
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let batch = input.shape[0], channels = input.shape.last!
        let positions = input.count / max(batch * channels, 1)
        guard channels > 0, batch > 0 else { return }
        guard positions > 0 else {  // the mean of no values
            output.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: .nan) }
            return
        }
        let threads = Parallel.threadCount, values = positions * channels
        let rows = input.shape.count == 4 ? input.shape[1] : positions
        input.scalars.withUnsafeBufferPointer { source in
            output.scalars.withUnsafeMutableBufferPointer { target in
                let from = SharedReadPointer(source.baseAddress!), to = SharedPointer(target.baseAddress!)
                guard batch < threads else {  // a batch shares its images over the cores
                    Parallel.forEach(batch) { image in
                        Self.average(from.base + image * values, positions: positions, channels: 0..<channels, stride: channels,
                                     into: to.base + image * channels)
                    }
                    return
                }
                // One image follows the shares the layer before it most likely wrote (whose caches hold them): contiguous
                // rows on a map of at least `ExpandedDepthwise.rowsPerCore` rows a core, else channels (in blocks of 32).
                if rows < ExpandedDepthwise.rowsPerCore * threads {
                    for image in 0..<batch {
                        Parallel.forEachShare(of: channels, granule: 32) { share in
                            Self.average(from.base + image * values, positions: positions, channels: share, stride: channels,
                                         into: to.base + image * channels)
                        }
                    }
                    return
                }
                let shares = Parallel.shares(of: positions, granule: 32, into: max(1, min(threads, values / Self.valuesPerCore)))
                var totals = [Double](repeating: 0, count: shares.count * channels)
                for image in 0..<batch {
                    totals.withUnsafeMutableBufferPointer { buffer in
                        buffer.update(repeating: 0)
                        let partial = SharedPointer(buffer.baseAddress!)
                        Parallel.forEach(shares.count) { share in
                            an_channel_totals(from.base + image * values + shares[share].lowerBound * channels, shares[share].count,
                                              Int32(channels), Int32(channels), partial.base + share * channels)
                        }
                        for c in 0..<channels {
                            var total = buffer[c]
                            for share in 1..<shares.count { total += buffer[share * channels + c] }  // in order
                            to.base[image * channels + c] = Float(total / Double(positions))
                        }
                    }
                }
            }
        }
    }

    /// The means of channels `slice` of one image.
    private static func average(_ image: UnsafePointer<Float>, positions: Int, channels slice: Range<Int>, stride: Int,
                                into output: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: slice.count) { totals in
            totals.initialize(repeating: 0)
            an_channel_totals(image + slice.lowerBound, positions, Int32(stride), Int32(slice.count), totals.baseAddress!)
            for c in 0..<slice.count { output[slice.lowerBound + c] = Float(totals[c] / Double(positions)) }
        }
    }
}
