import CKernels

/// A 1×1 expansion and the depthwise convolution that reads it, as one layer: the first two convolutions of an
/// inverted residual block (MobileNetV2, EfficientNet, MobileNetV3, MnasNet).
///
/// Band by band of output rows, the expanded rows a band reads are computed straight into a zero-padded buffer that
/// stays in cache and convolved there: the expanded tensor — six times the block's input, 4.8 MB for one image at
/// MobileNetV2's first 112×112×96 expansion — is never written to memory, and the depthwise convolution needs no
/// padded copy of it. The cores share the output rows, or the channels when the rows are few (a share of rows expands
/// the rows above and below it again: two of seven for a 7×7 map on two cores). The expansion runs the packed product
/// (``an_packed_gemm``) and the convolution the padded-row kernel (``an_depthwise_padded``), so where the two layers
/// alone run the same kernels (AVX2 or AVX-512) the output equals theirs bit for bit.
public struct ExpandedDepthwise: Layer {
    /// The 1×1 expansion: ungrouped, stride 1, unpadded.
    public let expand: Conv2D
    /// The depthwise convolution of the expanded channels (one filter each).
    public let depthwise: DepthwiseConv2D
    /// The expansion's weights as panels of 16 channels (``an_pack_panels``).
    private let packed: [Float]
    /// Bytes of expanded rows a band may hold; with the band's input and output rows it stays in a 512 KB L2 (320 KB
    /// ran MobileNetV2 1–2 % faster than 160 KB at batch 1 and 16, 1 and 2 threads).
    static let bandBytes = 320 * 1024
    /// Output rows each core needs for the cores to share rows rather than channels (measured on MobileNetV2 on two
    /// cores: channels are faster for 7×7 maps, even for 14×14, slower for 28×28).
    static let rowsPerCore = 8

    /// The pair as one layer, or nil unless `expand` is a per-pixel linear map whose outputs `depthwise` reads
    /// channel for channel.
    public init?(_ expand: Conv2D, then depthwise: DepthwiseConv2D) {
        guard expand.isPerPixelLinear, depthwise.multiplier == 1, depthwise.channels == expand.outputChannels else { return nil }
        self.expand = expand
        self.depthwise = depthwise
        packed = expand.packedPanels ?? expand.packPanels()
    }

    public var typeName: String { "ExpandedDepthwise" }
    public var parameterCount: Int { expand.parameterCount + depthwise.parameterCount }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try depthwise.outputShape(for: [try expand.outputShape(for: inputs)])
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int {
        guard let expanded = try? expand.outputShape(for: inputs) else { return 0 }
        return expand.multiplyAdds(for: inputs) + depthwise.multiplyAdds(for: [expanded])
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let g = depthwise.geometry([input.shape[1], input.shape[2], depthwise.channels])
        let rows = input.shape[0] * g.outputHeight, panels = Int(an_packed_panels(Int32(depthwise.channels)))
        guard rows > 0 else { return }
        input.scalars.withUnsafeBufferPointer { inBuffer in
            output.scalars.withUnsafeMutableBufferPointer { outBuffer in
                packed.withUnsafeBufferPointer { packedBuffer in
                    expand.bias.withUnsafeBufferPointer { expandBias in
                        depthwise.weights.withUnsafeBufferPointer { depthwiseWeights in
                            depthwise.bias.withUnsafeBufferPointer { depthwiseBias in
                                let bands = Bands(layer: self, geometry: g, source: SharedReadPointer(inBuffer.baseAddress!),
                                                  packed: SharedReadPointer(packedBuffer.baseAddress!),
                                                  expandBias: SharedReadPointer(expandBias.baseAddress!),
                                                  weights: SharedReadPointer(depthwiseWeights.baseAddress!),
                                                  bias: SharedReadPointer(depthwiseBias.baseAddress!),
                                                  output: SharedPointer(outBuffer.baseAddress!))
                                if rows >= Self.rowsPerCore * Parallel.threadCount || panels == 1 {
                                    Parallel.forEachShare(of: rows) { share in bands.run(rows: share, panels: 0..<panels) }
                                } else {
                                    Parallel.forEachShare(of: panels) { share in bands.run(rows: 0..<rows, panels: share) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The run of an ``ExpandedDepthwise`` on one batch: what every core's share reads and writes.
private struct Bands: Sendable {
    let layer: ExpandedDepthwise
    let geometry: WindowGeometry
    let source, packed, expandBias, weights, bias: SharedReadPointer<Float>
    let output: SharedPointer<Float>

    /// Output rows `rows` (over the batch) of the channels of expansion panels `panels`, band by band: the input rows
    /// a band reads are expanded into `padded` (those the band before expanded move up instead), their padding zeroed,
    /// then convolved.
    func run(rows: Range<Int>, panels: Range<Int>) {
        let g = geometry, expand = layer.expand, depthwise = layer.depthwise
        var shape = g.kernelShape(inputChannels: depthwise.channels, outputChannels: depthwise.channels)
        let (inputs, channels) = (expand.inputChannels, depthwise.channels)
        let slice = panels.lowerBound * 16..<min(panels.upperBound * 16, channels)
        let paddedWidth = Int(an_depthwise_padded_width(&shape)), rowStride = paddedWidth * channels
        let halo = (g.kernelHeight - 1) * g.dilationY + 1
        let band = Int(an_depthwise_band_rows(&shape, ExpandedDepthwise.bandBytes)), bandHeight = (band - 1) * g.strideY + halo
        // Input columns 0 ..< end − begin are padded columns begin ..< end; the others are padding (or never read).
        let begin = min(g.padLeft, paddedWidth), end = min(g.padLeft + g.inputWidth, paddedWidth), inside = end - begin
        // Expanding whole padded rows (from input rows copied with the padding's columns) multiplies those columns too,
        // for nothing; expanding the input's own rows costs a copy of each expanded value into its padded row instead,
        // about two multiply-adds' time.
        let wholeRows = (paddedWidth - inside) * inputs <= 2 * inside
        let stageSize = bandHeight * (wholeRows ? paddedWidth * inputs : g.inputWidth * channels)
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: bandHeight * rowStride)
        let stage = UnsafeMutablePointer<Float>.allocate(capacity: stageSize)
        defer {
            padded.deallocate()
            stage.deallocate()
        }
        if wholeRows { stage.initialize(repeating: 0, count: stageSize) }  // the padding's columns stay zero
        let expandBounds = expand.activation.clampBounds, (expandLow, expandHigh) = expandBounds ?? (-.infinity, .infinity)
        let bounds = depthwise.activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)

        /// `body` on the slice's channels of `pixels` pixels, as offsets from the first pixel's first channel and counts:
        /// one run when the slice is every channel.
        func forSlice(of pixels: Int, _ body: (_ offset: Int, _ count: Int) -> Void) {
            if slice.count == channels { return body(0, pixels * channels) }
            for pixel in 0..<pixels { body(pixel * channels + slice.lowerBound, slice.count) }
        }

        /// Expands input rows `firstY ..< firstY + count` of `image` (all inside it) into padded rows from `target` on.
        func expandRows(image: Int, firstY: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
            let inputRows = source.base + (image * g.inputHeight + firstY) * g.inputWidth * inputs
            if wholeRows {
                for r in 0..<count {
                    (stage + (r * paddedWidth + begin) * inputs).update(from: inputRows + r * g.inputWidth * inputs, count: inside * inputs)
                }
            }
            let (product, width) = wholeRows ? (target, paddedWidth) : (stage, g.inputWidth)
            an_packed_gemm(Int32(count * width), Int32(channels), Int32(inputs), wholeRows ? UnsafePointer(stage) : inputRows,
                           Int32(inputs), packed.base, expandBias.base, nil, expandLow, expandHigh, product, Int32(channels),
                           Int32(panels.lowerBound), Int32(panels.count))
            if expandBounds == nil { forSlice(of: count * width) { expand.activation.apply(product + $0, count: $1) } }
            for r in 0..<count {
                let row = target + r * rowStride
                if !wholeRows {
                    let expanded = stage + r * g.inputWidth * channels
                    forSlice(of: inside) { (row + begin * channels + $0).update(from: expanded + $0, count: $1) }
                }
                forSlice(of: begin) { (row + $0).update(repeating: 0, count: $1) }
                forSlice(of: paddedWidth - end) { (row + end * channels + $0).update(repeating: 0, count: $1) }
            }
        }

        var held = (image: -1, firstY: 0, end: 0)  // `padded` holds input rows firstY ..< end of the image
        var row = rows.lowerBound
        while row < rows.upperBound {
            let image = row / g.outputHeight, oy = row % g.outputHeight
            let count = min(band, rows.upperBound - row, g.outputHeight - oy)  // a band stays in one image
            let firstY = oy * g.strideY - g.padTop, height = (count - 1) * g.strideY + halo
            let kept = held.image == image ? max(0, held.end - firstY) : 0
            if kept > 0 {
                UnsafeMutableRawPointer(padded).copyMemory(from: padded + (firstY - held.firstY) * rowStride,
                                                           byteCount: kept * rowStride * MemoryLayout<Float>.size)
            }
            var r = kept
            while r < height {
                if firstY + r < 0 || firstY + r >= g.inputHeight {
                    forSlice(of: paddedWidth) { (padded + r * rowStride + $0).update(repeating: 0, count: $1) }
                    r += 1
                } else {
                    let count = min(height, g.inputHeight - firstY) - r
                    expandRows(image: image, firstY: firstY + r, count: count, into: padded + r * rowStride)
                    r += count
                }
            }
            held = (image, firstY, firstY + height)
            let line = output.base + row * g.outputWidth * channels
            an_depthwise_padded(&shape, padded, rowStride, Int32(count), Int32(slice.lowerBound), Int32(slice.count),
                                weights.base, bias.base, low, high, line)
            if bounds == nil { forSlice(of: count * g.outputWidth) { depthwise.activation.apply(line + $0, count: $1) } }
            row += count
        }
    }
}

extension Network {
    /// The network with each planned pointwise convolution that feeds only a depthwise convolution merged with it into
    /// an ``ExpandedDepthwise``, where the packed product has its body (AVX2 or AVX-512; elsewhere a 1×1
    /// convolution multiplies in BLAS). Run it after ``optimized()``, which folds the BatchNorm and activation between
    /// the two into the expansion.
    public func fusingExpansions() -> Network {
        guard an_packed_gemm_has_body() != 0 else { return self }
        return mergingPairs { first, second in
            guard let expand = first as? Conv2D, expand.algorithm == .pointwise, let depthwise = second as? DepthwiseConv2D else { return nil }
            return ExpandedDepthwise(expand, then: depthwise)
        }
    }
}
