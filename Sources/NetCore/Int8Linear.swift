import CKernels

/// A linear map over the last axis — a 1×1 convolution or a dense layer — run in int8 with dynamic-range
/// quantization, the scheme of LiteRT's hybrid kernels, or with a calibrated input range (static quantization).
///
/// Weights are quantized once per output channel (symmetric, scale = max|w| / 127); each input row (a
/// pixel's channels, or a feature vector) is quantized to uint8 at run time with its own scale and zero
/// point — or, once calibrated (``inputRange``), every row with the one scale and zero point of the range measured on
/// calibration examples, values outside it clamped; products accumulate exactly in int32 and are rescaled to float
/// before the bias and activation.
/// On processors with AVX-512 VNNI (or AVX-VNNI) the product runs on `vpdpbusd` (with AVX-512, about four times
/// the FP32 FMA rate), with AVX2 on `vpmaddwd` over bytes widened to 16 bits (exact, no saturation); elsewhere a
/// portable body gives bit-identical results, slower than float32.
public struct Int8Linear: Layer {
    public let inputFeatures: Int
    public let outputFeatures: Int
    /// The layer this one was made from, for layer tables (`Conv2D` or `Dense`).
    public let sourceTypeName: String
    public let bias: [Float]
    /// Whether the bias is a learnable parameter (a bias-free convolution's zeros are not counted).
    public let hasBias: Bool
    public let activation: Activation
    /// The range every input row is quantized with (widened to contain 0), measured on calibration examples; nil when
    /// each row is quantized with its own range.
    public private(set) var inputRange: ClosedRange<Float>?
    let packed: [Int8]
    let scales: [Float]
    let sums: [Int32]

    /// Quantizes `weights` `[inputFeatures, outputFeatures]` (row-major).
    public init(inputFeatures: Int, outputFeatures: Int, weights: [Float], bias: [Float], activation: Activation,
                sourceTypeName: String = "Dense", hasBias: Bool = true) {
        precondition(weights.count == inputFeatures * outputFeatures && bias.count == outputFeatures, "weight or bias count mismatch")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.bias = bias
        self.hasBias = hasBias
        self.activation = activation
        self.sourceTypeName = sourceTypeName
        var packed = [Int8](repeating: 0, count: an_int8_packed_size(Int32(inputFeatures), Int32(outputFeatures)))
        var scales = [Float](repeating: 0, count: outputFeatures), sums = [Int32](repeating: 0, count: outputFeatures)
        an_int8_pack_weights(weights, Int32(inputFeatures), Int32(outputFeatures), &packed, &scales, &sums)
        self.packed = packed
        self.scales = scales
        self.sums = sums
    }

    /// The int8 form of a dense layer.
    public init(_ dense: Dense) {
        self.init(inputFeatures: dense.inputFeatures, outputFeatures: dense.outputFeatures, weights: dense.weights,
                  bias: dense.bias, activation: dense.activation)
    }

    /// The int8 form of a 1×1, stride-1, unpadded, ungrouped convolution; nil for any other convolution.
    public init?(_ conv: Conv2D) {
        guard conv.isPerPixelLinear else { return nil }
        self.init(inputFeatures: conv.inputChannels, outputFeatures: conv.outputChannels, weights: conv.weights,
                  bias: conv.bias, activation: conv.activation, sourceTypeName: "Conv2D", hasBias: conv.hasBias)
    }

    /// The quantized weights `[inputFeatures, outputFeatures]` (row-major), each column times its ``weightScales``
    /// entry approximating the float weights.
    public var weightCodes: [Int8] {
        var codes = [Int8](repeating: 0, count: inputFeatures * outputFeatures)
        an_int8_unpack_weights(packed, Int32(inputFeatures), Int32(outputFeatures), &codes)
        return codes
    }

    /// One scale per output feature: max |w| / 127 of its column.
    public var weightScales: [Float] { scales }

    /// This layer with its input quantized with the fixed `range` (static quantization; widened to contain 0).
    public func quantizing(inputsIn range: ClosedRange<Float>) -> Int8Linear {
        var result = self
        result.inputRange = min(range.lowerBound, 0)...max(range.upperBound, 0)
        return result
    }

    /// The range its output is written in as uint8 codes, for int8 layers that read it (``Network/exchangingCodes()``);
    /// nil when it writes floats.
    public private(set) var outputRange: ClosedRange<Float>?

    /// This layer writing its output as uint8 codes of `range` (widened to contain 0).
    public func writingCodes(in range: ClosedRange<Float>) -> Int8Linear {
        var result = self
        result.outputRange = min(range.lowerBound, 0)...max(range.upperBound, 0)
        return result
    }

    /// Bytes between quantized rows: the row length rounded up to 4, what the int8 product reads.
    var codeRowStride: Int { (inputFeatures + 3) / 4 * 4 }

    public var typeName: String { "\(sourceTypeName) (int8)" }
    public var parameterCount: Int { inputFeatures * outputFeatures + (hasBias ? outputFeatures : 0) }
    public var parameterBytes: Int { inputFeatures * outputFeatures + MemoryLayout<Float>.size * (hasBias ? outputFeatures : 0) }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try lastAxisOutputShape(inputs, inputFeatures: inputFeatures, outputFeatures: outputFeatures)
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { inputs[0].reduce(1, *) * outputFeatures }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        run(inputs[0], adding: nil, activation: activation, into: &output)
    }

    /// `activation(input · w + bias [+ residual])`: the product with a residual (a tensor of the output's shape) added
    /// in the kernel's store — what a ``ProjectionAdd`` of int8 runs. ReLU and ReLU6 run inside the kernel as a clamp;
    /// other activations afterwards. The input and the residual may be uint8 ``Tensor/codes``; the output is, with an
    /// ``outputRange``.
    func run(_ input: Tensor, adding residual: Tensor?, activation: Activation, into output: inout Tensor) {
        let rows = input.count / inputFeatures
        guard rows > 0 else { return }
        guard inputRange != nil || input.codes != nil || outputRange != nil || residual?.codes != nil else {
            return runQuantizingEachRow(input, rows: rows, adding: residual, activation: activation, into: &output)
        }
        let k = inputFeatures, stride = codeRowStride
        input.scalars.withUnsafeBytes { buffer in
            let source = SharedReadPointer(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
            if let codes = input.codes {
                // Rows of codes already: read in place when their length is the product's row stride, else copied.
                multiplyCodes(rows: rows, adding: residual, activation: activation, into: &output) { first, count, bytes, _, rowScales, rowZeros in
                    rowScales.update(repeating: codes.scale, count: count)
                    rowZeros.update(repeating: codes.zero, count: count)
                    guard k != stride else { return .contiguous(source.base + first * k) }
                    for row in 0..<count { (bytes + row * stride).update(from: source.base + (first + row) * k, count: k) }
                    return .contiguous(bytes)
                }
                return
            }
            guard let inputRange else { preconditionFailure("an uncalibrated \(typeName) neither writes codes nor adds a residual of codes") }
            let floats = SharedReadPointer(UnsafeRawPointer(source.base).assumingMemoryBound(to: Float.self))
            multiplyCodes(rows: rows, adding: residual, activation: activation, into: &output) { first, count, bytes, _, rowScales, rowZeros in
                var scale: Float = 0, zero: Int32 = 0
                if k == stride {
                    an_int8_quantize(floats.base + first * k, count * k, inputRange.lowerBound, inputRange.upperBound, bytes, &scale, &zero)
                } else {
                    for row in 0..<count {
                        an_int8_quantize(floats.base + (first + row) * k, k, inputRange.lowerBound, inputRange.upperBound, bytes + row * stride,
                                         &scale, &zero)
                    }
                }
                rowScales.update(repeating: scale, count: count)
                rowZeros.update(repeating: zero, count: count)
                return .contiguous(bytes)
            }
        }
    }

    /// ``run(_:adding:activation:into:)`` with each row quantized with its own range, inside the kernel.
    private func runQuantizingEachRow(_ input: Tensor, rows: Int, adding residual: Tensor?, activation: Activation, into output: inout Tensor) {
        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        // Shares of whole 12-row tiles (no worker runs the slower remainder tiles more than once), 48+ rows each.
        let workers = max(1, rows / 48)
        let (n, k) = (outputFeatures, inputFeatures)
        input.scalars.withUnsafeBufferPointer { a in
            let source = SharedReadPointer(a.baseAddress!)
            withOperands(output: &output, residual: residual) { o in
                Parallel.forEachShare(of: rows, granule: 12, maxShares: workers) { share in
                    let first = share.lowerBound, count = share.count
                    let status = an_int8_linear(
                        Int32(count), Int32(n), Int32(k), source.base + first * k, Int32(k), o.weights.base, o.scales.base, o.sums.base,
                        o.bias.base, o.addend.map { $0.base + first * n }, low, high, o.target.base + first * n, Int32(n))
                    precondition(status == 0, "out of memory in the int8 kernel")
                    if bounds == nil { activation.apply(o.target.base + first * n, count: count * n) }
                }
            }
        }
    }

    /// `count` rows of bytes (``codeRowStride`` apart, row `r` of scale `rowScales[r]` and zero point `rowZeros[r]`) times
    /// columns `columns` of the weights (from a multiple of 32, a packed panel), with the bias and activation, into rows
    /// of floats `ld` apart from `target` (column `columns.lowerBound`), on the calling thread: the product of a layer that
    /// shares its work among the cores itself (``ExpandedDepthwise``).
    func multiply(codes rows: UnsafePointer<UInt8>, count: Int, scales rowScales: UnsafePointer<Float>, zeros rowZeros: UnsafePointer<Int32>,
                  columns: Range<Int>, into target: UnsafeMutablePointer<Float>, ld: Int) {
        let bounds = activation.clampBounds, first = columns.lowerBound
        var store = an_int8_store()
        (store.c, store.lo, store.hi, store.ld) = (target, bounds?.low ?? -.infinity, bounds?.high ?? .infinity, Int32(ld))
        let status = packed.withUnsafeBufferPointer { p in
            scales.withUnsafeBufferPointer { s in
                sums.withUnsafeBufferPointer { u in
                    bias.withUnsafeBufferPointer { b in
                        // Panels of 32 columns, each `codeRowStride × 32` bytes.
                        an_int8_linear_codes(Int32(count), Int32(columns.count), Int32(codeRowStride), rows, rowScales, rowZeros,
                                             p.baseAddress! + first * codeRowStride, s.baseAddress! + first, u.baseAddress! + first,
                                             b.baseAddress! + first, store)
                    }
                }
            }
        }
        precondition(status == 0, "out of memory in the int8 kernel")
        if bounds == nil { for row in 0..<count { activation.apply(target + row * ld, count: columns.count) } }
    }

    /// What the int8 kernel reads and writes besides its rows, as pointers the cores share.
    private struct Operands: Sendable {
        let weights: SharedReadPointer<Int8>, scales: SharedReadPointer<Float>, sums: SharedReadPointer<Int32>
        let bias: SharedReadPointer<Float>, target: SharedPointer<Float>
        /// The residual's storage (floats or codes), or nil.
        let addend: SharedReadPointer<Float>?
    }

    /// `body` with the packed weights, their column scales and sums, the bias, `output`'s storage and `residual`'s.
    private func withOperands(output: inout Tensor, residual: Tensor?, _ body: (Operands) -> Void) {
        output.scalars.withUnsafeMutableBufferPointer { target in
            packed.withUnsafeBufferPointer { p in
                scales.withUnsafeBufferPointer { s in
                    sums.withUnsafeBufferPointer { u in
                        bias.withUnsafeBufferPointer { b in
                            (residual?.scalars ?? []).withUnsafeBufferPointer { r in
                                body(Operands(weights: SharedReadPointer(p.baseAddress!), scales: SharedReadPointer(s.baseAddress!),
                                              sums: SharedReadPointer(u.baseAddress!), bias: SharedReadPointer(b.baseAddress!),
                                              target: SharedPointer(target.baseAddress!),
                                              addend: residual == nil ? nil : r.baseAddress.map(SharedReadPointer.init)))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where the rows of a chunk are (``multiplyCodes(rows:adding:activation:into:fill:)``).
    enum ChunkRows {
        /// One after another, ``codeRowStride`` bytes apart.
        case contiguous(UnsafePointer<UInt8>)
        /// Row `r`'s bytes in `runs` runs of equal length, run `s` at `starts[r] + s × runStride` (``an_int8_linear_runs``).
        case runs(starts: UnsafePointer<UnsafePointer<UInt8>?>, runs: Int, runStride: Int)
    }

    /// The product of `rows` rows of bytes, already quantized, and the weights into `output` (`rows × outputFeatures`),
    /// plus `residual` when given (floats or ``Tensor/codes``), with the bias and `activation`; as codes of
    /// ``outputRange`` when set. `fill(first, count, bytes, starts, scales, zeros)` gives rows `first ..< first + count`
    /// — written to `bytes` (``codeRowStride`` apart), or where they already are, or as runs whose starts it writes to
    /// `starts` — and writes each one's scale and zero point: a chunk of about 512 KB at a time (the product streams a
    /// chunk once per 32 columns), in shares of whole 12-row tiles across the cores; few rows (one image's 7×7 layers)
    /// in shares of the 32-column panels instead, each core filling the rows for itself and reading only its panels'
    /// weights.
    func multiplyCodes(rows: Int, adding residual: Tensor? = nil, activation: Activation, into output: inout Tensor,
                       fill: @Sendable @escaping (_ first: Int, _ count: Int, _ bytes: UnsafeMutablePointer<UInt8>,
                                                  _ starts: UnsafeMutablePointer<UnsafePointer<UInt8>?>,
                                                  _ scales: UnsafeMutablePointer<Float>, _ zeros: UnsafeMutablePointer<Int32>) -> ChunkRows) {
        let rowStride = codeRowStride, n = outputFeatures, k = inputFeatures
        let chunkRows = max(12, min(768, (512 << 10) / rowStride) / 12 * 12)
        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        // Codes are written inside the kernel, so its clamp must be the whole activation.
        precondition(outputRange == nil || bounds != nil, "\(typeName) writes codes after an activation that is not a clamp")
        let codes = outputRange.map(Tensor.Quantization.init(codesOf:))
        let addendCodes = residual?.codes
        let threads = Parallel.threadCount, panels = (n + 31) / 32
        let byColumns = threads > 1 && panels > 1 && rows < 64 * threads
        let rowShares = byColumns ? [0..<rows] : Parallel.shares(of: rows, granule: 12, into: threads)
        let columnShares = byColumns ? Parallel.shares(of: panels, into: threads).map { $0.lowerBound * 32..<min(n, $0.upperBound * 32) } : [0..<n]
        withOperands(output: &output, residual: residual) { o in
            Parallel.forEach(rowShares.count * columnShares.count) { item in
                let share = rowShares[item / columnShares.count], columns = columnShares[item % columnShares.count], c0 = columns.lowerBound
                let capacity = min(chunkRows, share.count)
                // `fill` writes each row's `k` bytes; the ones past them (read, meeting zero weights) stay 0.
                let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * rowStride)
                for row in 0..<capacity where rowStride > k { (bytes + row * rowStride + k).initialize(repeating: 0, count: rowStride - k) }
                let rowScales = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
                let rowZeros = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
                let starts = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: capacity)
                defer { bytes.deallocate(); rowScales.deallocate(); rowZeros.deallocate(); starts.deallocate() }
                for first in Swift.stride(from: share.lowerBound, to: share.upperBound, by: chunkRows) {
                    let count = min(chunkRows, share.upperBound - first)
                    let rows = fill(first, count, bytes, starts, rowScales, rowZeros)
                    // Floats or codes, at the chunk's first row (codes are a byte an element).
                    var store = an_int8_store()
                    if let codes {
                        store.codes = UnsafeMutableRawPointer(o.target.base).assumingMemoryBound(to: UInt8.self) + first * n + c0
                        (store.codeInverse, store.codeZero) = (1 / codes.scale, codes.zero)
                    } else {
                        store.c = o.target.base + first * n + c0
                    }
                    if let addend = o.addend, let addendCodes {
                        store.addendCodes = UnsafeRawPointer(addend.base).assumingMemoryBound(to: UInt8.self) + first * n + c0
                        (store.addendScale, store.addendZero) = (addendCodes.scale, addendCodes.zero)
                    } else if let addend = o.addend {
                        store.addend = addend.base + first * n + c0
                    }
                    (store.lo, store.hi, store.ld) = (low, high, Int32(n))
                    // The share's panels: `rowStride × 32` bytes each.
                    let (weights, scales, sums, bias) = (o.weights.base + c0 * rowStride, o.scales.base + c0, o.sums.base + c0, o.bias.base + c0)
                    let status = switch rows {
                    case .contiguous(let rows):
                        an_int8_linear_codes(Int32(count), Int32(columns.count), Int32(rowStride), rows, rowScales, rowZeros, weights, scales,
                                             sums, bias, store)
                    case .runs(let starts, let runs, let runStride):
                        an_int8_linear_runs(Int32(count), Int32(columns.count), Int32(rowStride), starts, Int32(runs), runStride, rowScales,
                                            rowZeros, weights, scales, sums, bias, store)
                    }
                    precondition(status == 0, "out of memory in the int8 kernel")
                    if bounds == nil {
                        for row in first..<first + count { activation.apply(o.target.base + row * n + c0, count: columns.count) }
                    }
                }
            }
        }
        output.codes = codes
    }
}
