import CKernels

/// A 1×1 expansion and the depthwise convolution that reads it, as one layer: the first two convolutions of an
/// inverted residual block (MobileNetV2, EfficientNet, MobileNetV3, MnasNet).
///
/// Band by band of output rows (``PaddedBands``), the expanded rows a band reads are computed straight into a
/// zero-padded buffer that stays in cache and convolved there: the expanded tensor — six times the block's input, 4.8 MB
/// for one image at MobileNetV2's first 112×112×96 expansion — is never written to memory, and the depthwise convolution
/// needs no padded copy of it. The cores share the output rows, or the channels when the rows are few (a share of rows
/// expands the rows above and below it again: two of seven for a 7×7 map on two cores). A float32 expansion runs the
/// packed product (``an_packed_gemm``), so where the two layers alone run the same kernels (AVX2 or AVX-512) the output
/// equals theirs bit for bit; a calibrated int8 one (`--precision int8 --calibration`) reads uint8 codes and runs the
/// int8 product (``Int8Linear``) into the float buffer. The convolution runs the padded-row kernel
/// (``an_depthwise_padded``) in float32 and may write its output as codes for the int8 projection after it.
public struct ExpandedDepthwise: Layer {
    /// How the expansion multiplies.
    public enum Expansion: Sendable {
        /// An ungrouped, stride-1, unpadded 1×1 convolution, on its weights packed as panels of 16 channels
        /// (``an_pack_panels``).
        case float32(Conv2D, packed: [Float])
        /// The int8 form of such a convolution (``Int8Linear``), calibrated: its input is quantized with one fixed range.
        case int8(Int8Linear)
    }

    /// The 1×1 expansion.
    public let expansion: Expansion
    /// The depthwise convolution of the expanded channels (one filter each).
    public let depthwise: DepthwiseConv2D
    /// The range its output is written in as uint8 codes (``Network/exchangingCodes()``); nil when it writes floats.
    public private(set) var outputRange: ClosedRange<Float>?
    /// Bytes of expanded rows a band may hold; with the band's input and output rows it stays in a 512 KB L2 (320 KB
    /// ran MobileNetV2 1–2 % faster than 160 KB at batch 1 and 16, 1 and 2 threads).
    static let bandBytes = 320 * 1024
    /// Bytes of one example's float32 expansion from which it is merged with its depthwise convolution
    /// (``Network/fusingExpansions(float32From:)``). Below, the two layers alone were faster on the Xeon (2 MB L2 a core;
    /// one product over the whole map, against a product of a few rows a band): EfficientNet-B0's 14×14 and 7×7 blocks
    /// 10–30 % at batch 1, MobileNetV2's 5–25 %, their 28×28 ones (0.6–0.75 MB) even; above, merged won: the 56×56
    /// blocks (1.2–1.8 MB) 8–30 %.
    public static let fusedFloat32Bytes = 1 << 20
    /// Output rows each core needs for the cores to share rows rather than channels (on two cores: channels are faster
    /// for 7×7 maps; rows for 14×14 — EfficientNet-B0's 3×3 layers there 12–20 % faster, MobileNetV2 unchanged — and larger).
    static let rowsPerCore = 7

    /// The pair as one layer, or nil unless `expand` is a per-pixel linear map whose outputs `depthwise` reads
    /// channel for channel.
    public init?(_ expand: Conv2D, then depthwise: DepthwiseConv2D) {
        guard expand.isPerPixelLinear, depthwise.multiplier == 1, depthwise.channels == expand.outputChannels else { return nil }
        expansion = .float32(expand, packed: expand.packedPanels ?? expand.packPanels())
        self.depthwise = depthwise
    }

    /// The int8 pair as one layer, or nil unless `expand` is a calibrated 1×1 convolution's int8 form whose outputs
    /// `depthwise` reads channel for channel.
    public init?(_ expand: Int8Linear, then depthwise: DepthwiseConv2D) {
        guard expand.sourceTypeName == "Conv2D", expand.inputRange != nil, expand.outputRange == nil, depthwise.multiplier == 1,
              depthwise.channels == expand.outputFeatures else { return nil }
        expansion = .int8(expand)
        self.depthwise = depthwise
    }

    /// The expansion as a layer of its own.
    public var expand: any Layer {
        switch expansion {
        case .float32(let conv, _): conv
        case .int8(let linear): linear
        }
    }

    public var typeName: String {
        if case .int8 = expansion { return "ExpandedDepthwise (int8)" }
        return "ExpandedDepthwise"
    }
    public var parameterCount: Int { expand.parameterCount + depthwise.parameterCount }
    public var parameterBytes: Int { expand.parameterBytes + depthwise.parameterBytes }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try depthwise.outputShape(for: [try expand.outputShape(for: inputs)])
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int {
        guard let expanded = try? expand.outputShape(for: inputs) else { return 0 }
        return expand.multiplyAdds(for: inputs) + depthwise.multiplyAdds(for: [expanded])
    }

    /// Channels a share of channels takes at a time: a panel of the expansion's packed weights.
    var panelWidth: Int {
        if case .int8 = expansion { return 32 }
        return 16
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0], channels = depthwise.channels
        let g = depthwise.geometry([input.shape[1], input.shape[2], channels])
        let rows = input.shape[0] * g.outputHeight, panels = (channels + panelWidth - 1) / panelWidth
        let codes = outputRange.map(Tensor.Quantization.init(codesOf:))
        output.codes = codes
        guard rows > 0 else { return }
        input.scalars.withUnsafeBufferPointer { inBuffer in
            output.scalars.withUnsafeMutableBufferPointer { outBuffer in
                depthwise.weights.withUnsafeBufferPointer { depthwiseWeights in
                    depthwise.bias.withUnsafeBufferPointer { depthwiseBias in
                        let bands = Bands(layer: self, geometry: g, source: SharedReadPointer(inBuffer.baseAddress!), sourceCodes: input.codes,
                                          weights: SharedReadPointer(depthwiseWeights.baseAddress!),
                                          bias: SharedReadPointer(depthwiseBias.baseAddress!),
                                          output: SharedPointer(outBuffer.baseAddress!), outputCodes: codes)
                        let width = panelWidth
                        if rows >= Self.rowsPerCore * Parallel.threadCount || panels == 1 {
                            Parallel.forEachShare(of: rows) { share in bands.run(rows: share, channels: 0..<channels) }
                        } else {
                            Parallel.forEachShare(of: panels) { share in
                                bands.run(rows: 0..<rows, channels: share.lowerBound * width..<min(share.upperBound * width, channels))
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
    /// The input: floats, or bytes when `sourceCodes` is set.
    let source: SharedReadPointer<Float>
    let sourceCodes: Tensor.Quantization?
    let weights, bias: SharedReadPointer<Float>
    /// The output: floats, or bytes when `outputCodes` is set.
    let output: SharedPointer<Float>
    let outputCodes: Tensor.Quantization?

    /// Output rows `rows` (over the batch) of channels `slice` (from a multiple of the layer's panel width), band by
    /// band: the input rows a band reads are expanded into its padded rows, then convolved.
    func run(rows: Range<Int>, channels slice: Range<Int>) {
        let g = geometry, depthwise = layer.depthwise, channels = depthwise.channels
        let bands = PaddedBands(geometry: g, channels: channels, slice: slice, bandBytes: ExpandedDepthwise.bandBytes)
        var shape = bands.shape
        let bounds = depthwise.activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        // Codes are written by the kernel (a row of floats is its scratch where it has no AVX-512 body); `canWriteCodes`
        // makes the activation its clamp.
        let scratchLine = outputCodes == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.outputWidth * channels)
        defer { scratchLine?.deallocate() }
        let convolve = { (padded: UnsafePointer<Float>, row: Int, count: Int) in
            let first = row * g.outputWidth * channels
            if let outputCodes, let scratchLine {
                let bytes = UnsafeMutableRawPointer(output.base).assumingMemoryBound(to: UInt8.self) + first
                an_depthwise_padded_codes(&shape, padded, bands.rowStride, Int32(count), Int32(slice.lowerBound), Int32(slice.count),
                                          weights.base, bias.base, low, high, 1 / outputCodes.scale, outputCodes.zero, scratchLine, bytes)
                return
            }
            let line = output.base + first
            an_depthwise_padded(&shape, padded, bands.rowStride, Int32(count), Int32(slice.lowerBound), Int32(slice.count),
                                weights.base, bias.base, low, high, line)
            if bounds == nil { bands.forSlice(of: count * g.outputWidth) { depthwise.activation.apply(line + $0, count: $1) } }
        }
        switch layer.expansion {
        case .float32(let conv, let packed):
            withFloatExpansion(conv, packed: packed, bands: bands) { bands.run(rows: rows, fill: $0, convolve: convolve) }
        case .int8(let linear):
            withInt8Expansion(linear, bands: bands) { bands.run(rows: rows, fill: $0, convolve: convolve) }
        }
    }

    /// What fills a band's padded rows: input rows `firstY ..< firstY + count` of `image`, expanded, from `target` on.
    typealias Fill = (_ image: Int, _ firstY: Int, _ count: Int, _ target: UnsafeMutablePointer<Float>) -> Void

    /// `body` with the expansion of input rows of floats into padded rows by the packed float product (the slice's
    /// 16-channel panels).
    private func withFloatExpansion(_ expand: Conv2D, packed: [Float], bands: PaddedBands, _ body: (Fill) -> Void) {
        let g = geometry, inputs = expand.inputChannels, channels = bands.channels
        let (paddedWidth, rowStride, begin, inside) = (bands.paddedWidth, bands.rowStride, bands.begin, bands.end - bands.begin)
        // Expanding whole padded rows (from input rows copied with the padding's columns) multiplies those columns too,
        // for nothing; expanding the input's own rows costs a copy of each expanded value into its padded row instead,
        // about two multiply-adds' time.
        let wholeRows = (paddedWidth - inside) * inputs <= 2 * inside
        let stageSize = bands.bandHeight * (wholeRows ? paddedWidth * inputs : g.inputWidth * channels)
        let stage = UnsafeMutablePointer<Float>.allocate(capacity: stageSize)
        defer { stage.deallocate() }
        if wholeRows { stage.initialize(repeating: 0, count: stageSize) }  // the padding's columns stay zero
        let bounds = expand.activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        let panels = bands.slice.lowerBound / 16..<(bands.slice.upperBound + 15) / 16
        body { image, firstY, count, target in
            let inputRows = source.base + (image * g.inputHeight + firstY) * g.inputWidth * inputs
            if wholeRows {
                for r in 0..<count {
                    (stage + (r * paddedWidth + begin) * inputs).update(from: inputRows + r * g.inputWidth * inputs, count: inside * inputs)
                }
            }
            let (product, width) = wholeRows ? (target, paddedWidth) : (stage, g.inputWidth)
            packed.withUnsafeBufferPointer { packed in
                expand.bias.withUnsafeBufferPointer { bias in
                    an_packed_gemm(Int32(count * width), Int32(channels), Int32(inputs), wholeRows ? UnsafePointer(stage) : inputRows,
                                   Int32(inputs), packed.baseAddress!, bias.baseAddress!, nil, low, high, product, Int32(channels),
                                   Int32(panels.lowerBound), Int32(panels.count))
                }
            }
            if bounds == nil { bands.forSlice(of: count * width) { expand.activation.apply(product + $0, count: $1) } }
            if !wholeRows {
                for r in 0..<count {
                    let expanded = stage + r * g.inputWidth * channels, row = target + r * rowStride + begin * channels
                    bands.forSlice(of: inside) { (row + $0).update(from: expanded + $0, count: $1) }
                }
            }
        }
    }

    /// `body` with the expansion of input rows — uint8 codes, or floats quantized with the calibrated range — into padded
    /// rows by the int8 product (the slice's 32-channel panels). Rows of at most 16 pixels whose padding is at most a
    /// quarter of a padded row (7×7 and 14×14 maps under a 3×3 kernel) are copied as codes into whole padded rows and
    /// expanded in one product for the band, padding and all (its columns are zeroed after): a row at a time, 7 pixels
    /// filled 7 rows of a 16-row AMX tile or a 12-row VNNI one — MobileNetV2's four 7×7 expansions took 0.25 ms a row
    /// at a time, 0.14–0.16 ms a band at a time (its 14×14 ones 0.33–0.35 → 0.28–0.32); wider rows gained nothing for
    /// the copy. Others are read in place, a row at a time.
    private func withInt8Expansion(_ expand: Int8Linear, bands: PaddedBands, _ body: (Fill) -> Void) {
        let g = geometry, k = expand.inputFeatures, stride = expand.codeRowStride, channels = bands.channels
        let (paddedWidth, rowStride, begin, inside) = (bands.paddedWidth, bands.rowStride, bands.begin, bands.end - bands.begin)
        guard let range = expand.inputRange else { preconditionFailure("an uncalibrated int8 expansion is not fused") }
        let codes = sourceCodes ?? Tensor.Quantization(codesOf: range)
        let wholeRows = inside <= 16 && (paddedWidth - inside) * 4 <= paddedWidth
        // Rows of codes are read in place when their length is the product's row stride (and rows are expanded one at a
        // time); others are copied, or quantized, into rows of `stride` bytes whose bytes past `k` stay 0.
        let inPlace = sourceCodes != nil && k == stride && !wholeRows
        let stageRows = wholeRows ? bands.bandHeight * paddedWidth : inside
        let stage = UnsafeMutablePointer<UInt8>.allocate(capacity: inPlace ? 0 : stageRows * stride)
        let rowScales = UnsafeMutablePointer<Float>.allocate(capacity: stageRows), rowZeros = UnsafeMutablePointer<Int32>.allocate(capacity: stageRows)
        defer { stage.deallocate(); rowScales.deallocate(); rowZeros.deallocate() }
        if !inPlace { stage.initialize(repeating: 0, count: stageRows * stride) }
        rowScales.initialize(repeating: codes.scale, count: stageRows)
        rowZeros.initialize(repeating: codes.zero, count: stageRows)
        let bytes = UnsafeRawPointer(source.base).assumingMemoryBound(to: UInt8.self)
        /// Input row `y` of `image` as `stride`-byte codes from `target` on.
        func stageRow(image: Int, y: Int, into target: UnsafeMutablePointer<UInt8>) {
            let pixel = (image * g.inputHeight + y) * g.inputWidth
            if sourceCodes != nil {
                for x in 0..<inside { (target + x * stride).update(from: bytes + (pixel + x) * k, count: k) }
            } else {
                var scale: Float = 0, zero: Int32 = 0
                for x in 0..<inside {
                    an_int8_quantize(source.base + (pixel + x) * k, k, range.lowerBound, range.upperBound, target + x * stride, &scale, &zero)
                }
            }
        }
        body { image, firstY, count, target in
            if wholeRows {
                for r in 0..<count { stageRow(image: image, y: firstY + r, into: stage + (r * paddedWidth + begin) * stride) }
                expand.multiply(codes: stage, count: count * paddedWidth, scales: rowScales, zeros: rowZeros, columns: bands.slice,
                                into: target + bands.slice.lowerBound, ld: channels)
                return
            }
            for r in 0..<count {
                let pixel = (image * g.inputHeight + firstY + r) * g.inputWidth
                if !inPlace { stageRow(image: image, y: firstY + r, into: stage) }
                expand.multiply(codes: inPlace ? bytes + pixel * k : UnsafePointer(stage), count: inside, scales: rowScales, zeros: rowZeros,
                                columns: bands.slice, into: target + r * rowStride + begin * channels + bands.slice.lowerBound, ld: channels)
            }
        }
    }
}

extension Network {
    /// The network with each pointwise convolution that feeds only a depthwise convolution merged with it into an
    /// ``ExpandedDepthwise``: a calibrated int8 expansion anywhere, a planned float32 one where the packed product has its
    /// body (AVX2 or AVX-512; elsewhere a 1×1 convolution multiplies in BLAS). Run it after ``optimized()``, which folds
    /// the BatchNorm and activation between the two into the expansion. A float32 expansion is merged only where its
    /// output (one example) takes at least `float32Bytes` (``ExpandedDepthwise/fusedFloat32Bytes``).
    public func fusingExpansions(float32From float32Bytes: Int = ExpandedDepthwise.fusedFloat32Bytes) -> Network {
        let packedBody = an_packed_gemm_has_body() != 0
        return mergingPairs { first, second, expanded in
            guard let depthwise = second as? DepthwiseConv2D else { return nil }
            if let expand = first as? Int8Linear { return ExpandedDepthwise(expand, then: depthwise) }
            guard packedBody, let expand = first as? Conv2D, expand.algorithm == .pointwise,
                  expanded.reduce(MemoryLayout<Float>.size, *) >= float32Bytes else { return nil }
            return ExpandedDepthwise(expand, then: depthwise)
        }
    }
}

extension ExpandedDepthwise: CodeExchanging {
    /// The int8 expansion's calibrated range.
    var calibratedInputRange: ClosedRange<Float>? {
        if case .int8(let linear) = expansion { return linear.inputRange }
        return nil
    }

    func readsCodes(at position: Int) -> Bool { position == 0 && calibratedInputRange != nil }
    /// An int8 expansion, the convolution's activation a clamp (applied before its output is quantized).
    var canWriteCodes: Bool { calibratedInputRange != nil && depthwise.activation.clampBounds != nil }

    /// This layer writing its output as uint8 codes of `range` (widened to contain 0).
    func writingCodes(in range: ClosedRange<Float>) -> ExpandedDepthwise {
        var result = self
        result.outputRange = min(range.lowerBound, 0)...max(range.upperBound, 0)
        return result
    }

    var writesCodes: Bool { outputRange != nil }
}
