import CKernels

/// An ungrouped convolution with a window — any kernel, stride, dilation and padding — run in int8 as an im2col product.
///
/// Each image's input is quantized to uint8 with one scale and zero point from its range (widened to contain 0, so the
/// padding, 0, is exact); the im2col rows of those bytes times the weights, quantized per output channel as in
/// ``Int8Linear``, accumulate exactly in int32 and are rescaled to float before the bias and activation. One scale per
/// image rather than per row: a row of im2col repeats each input value up to `kernel` times, so the input is quantized
/// once and its bytes copied. A strided 1×1 kernel quantizes only the pixels it reads. Once calibrated, every image is
/// quantized with the one input range measured on calibration examples (static quantization).
public struct Int8Conv2D: SlidingWindow {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: (height: Int, width: Int)
    public let stride: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let padding: Padding
    /// The product of an im2col row (`kernel.height × kernel.width × inputChannels` values, taps in order) and the
    /// weights, with the bias and activation; its ``Int8Linear/inputRange``, once calibrated, quantizes every image.
    public private(set) var product: Int8Linear
    /// ``product`` with each kernel row's taps padded to whole 4-byte words by zero weights, where they are not (a stem's
    /// 3 channels: 7 × 3 = 21 bytes), so that the AVX-512 VNNI body reads the rows in place from a padded copy of the
    /// input — the bytes past a row's taps meeting zero weights — instead of copying them into im2col rows: ResNet-50's
    /// stem multiplies 7 × 24 bytes a pixel for 147, and its im2col copy had taken twice as long as its product.
    private var wordRuns: Int8Linear?

    /// The int8 form of an ungrouped convolution other than a per-pixel linear map (that one is an ``Int8Linear``).
    public init?(_ conv: Conv2D) {
        guard conv.groups == 1, !conv.isPerPixelLinear else { return nil }
        inputChannels = conv.inputChannels
        outputChannels = conv.outputChannels
        kernel = conv.kernel
        stride = conv.stride
        dilation = conv.dilation
        padding = conv.padding
        // Ungrouped HWIO weights are the `depth × outputChannels` matrix of the im2col product.
        product = Int8Linear(inputFeatures: conv.depth, outputFeatures: conv.outputChannels, weights: conv.weights, bias: conv.bias,
                             activation: conv.activation, sourceTypeName: "Conv2D", hasBias: conv.hasBias)
        let run = kernel.width * inputChannels, wordRun = (run + 3) / 4 * 4, n = outputChannels
        guard wordRun != run, kernel.height > 1, dilation.x == 1 else { return }
        var padded = [Float](repeating: 0, count: kernel.height * wordRun * n)
        let weights = conv.weights
        for ky in 0..<kernel.height {
            for tap in 0..<run { for o in 0..<n { padded[(ky * wordRun + tap) * n + o] = weights[(ky * run + tap) * n + o] } }
        }
        wordRuns = Int8Linear(inputFeatures: kernel.height * wordRun, outputFeatures: n, weights: padded, bias: conv.bias,
                              activation: conv.activation, sourceTypeName: "Conv2D", hasBias: conv.hasBias)
    }

    /// This convolution with every image quantized with the fixed `range` (static quantization; widened to contain 0).
    public func quantizing(inputsIn range: ClosedRange<Float>) -> Int8Conv2D {
        var result = self
        result.product = product.quantizing(inputsIn: range)
        result.wordRuns = wordRuns?.quantizing(inputsIn: range)
        return result
    }

    /// This convolution writing its output as uint8 codes of `range` (``Int8Linear/writingCodes(in:)``).
    public func writingCodes(in range: ClosedRange<Float>) -> Int8Conv2D {
        var result = self
        result.product = product.writingCodes(in: range)
        result.wordRuns = wordRuns?.writingCodes(in: range)
        return result
    }

    public var typeName: String { "Conv2D (int8)" }
    public var parameterCount: Int { product.parameterCount }
    public var parameterBytes: Int { product.parameterBytes }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try windowOutputShape(inputs, channels: inputChannels, outputChannels: outputChannels)
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int {
        let g = geometry(inputs[0])
        return g.outputHeight * g.outputWidth * outputChannels * product.inputFeatures
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0], batch = input.shape[0]
        let g = geometry(Array(input.shape.dropFirst()))
        guard batch * g.outputHeight * g.outputWidth > 0 else { return }
        guard kernel == (1, 1), g.padTop == 0, g.padLeft == 0, stride != (1, 1) else { return multiply(input, geometry: g, into: &output) }
        // A strided 1×1 kernel (ResNet's downsampling) reads only the pixels on its grid, a quarter of the image at stride
        // 2: those, gathered, are what it quantizes and multiplies, as a 1×1 kernel at stride 1.
        let rows = batch * g.outputHeight * g.outputWidth
        var gathered = Tensor(shape: [batch, g.outputHeight, g.outputWidth, inputChannels]) { buffer in
            input.scalars.withUnsafeBufferPointer { source in
                if input.codes != nil {
                    g.im2col(UnsafeRawPointer(source.baseAddress!).assumingMemoryBound(to: UInt8.self), inputChannels: inputChannels,
                             into: UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self), rowStride: inputChannels,
                             firstRow: 0, rows: rows, channelOffset: 0, channels: inputChannels, padding: 0)
                } else {
                    g.im2col(source.baseAddress!, inputChannels: inputChannels, into: buffer.baseAddress!, rowStride: inputChannels, firstRow: 0,
                             rows: rows, channelOffset: 0, channels: inputChannels, padding: 0)
                }
            }
        }
        gathered.codes = input.codes
        let unit = WindowGeometry(height: g.outputHeight, width: g.outputWidth, kernel: (1, 1), stride: (1, 1), dilation: (1, 1),
                                  padding: .valid)
        multiply(gathered, geometry: unit, into: &output)
    }

    /// The convolution of `input` with the window `g`: each image quantized (unless it holds ``Tensor/codes``), its im2col
    /// rows of bytes times the weights.
    private func multiply(_ input: Tensor, geometry g: WindowGeometry, into output: inout Tensor) {
        let batch = input.shape[0], pixels = g.outputHeight * g.outputWidth
        let quantized = input.codes == nil ? UnsafeMutableBufferPointer<UInt8>.allocate(capacity: input.count) : nil
        let imageScales = UnsafeMutableBufferPointer<Float>.allocate(capacity: batch)
        let imageZeros = UnsafeMutableBufferPointer<Int32>.allocate(capacity: batch)
        defer { quantized?.deallocate(); imageScales.deallocate(); imageZeros.deallocate() }
        input.scalars.withUnsafeBufferPointer { values in
            if let codes = input.codes {
                imageScales.initialize(repeating: codes.scale)
                imageZeros.initialize(repeating: codes.zero)
            } else {
                quantize(SharedReadPointer(values.baseAddress!), batch: batch, imageCount: input.count / batch, into: SharedPointer(quantized!.baseAddress!),
                         scales: SharedPointer(imageScales.baseAddress!), zeros: SharedPointer(imageZeros.baseAddress!))
            }
            let bytes = quantized.map { UnsafePointer($0.baseAddress!) } ?? UnsafeRawPointer(values.baseAddress!).assumingMemoryBound(to: UInt8.self)
            let source = SharedReadPointer(bytes), scales = SharedPointer(imageScales.baseAddress!)
            let zeros = SharedPointer(imageZeros.baseAddress!), rowStride = product.codeRowStride, channels = inputChannels
            if readsTapsInPlace(g) { return multiplyInPlace(source, batch: batch, geometry: g, scales: scales, zeros: zeros, into: &output) }
            product.multiplyCodes(rows: batch * pixels, activation: product.activation, into: &output) { first, count, bytes, _, rowScales, rowZeros in
                // The chunk image by image: each pads with its own zero point.
                var row = first
                while row < first + count {
                    let image = row / pixels, end = min(first + count, (image + 1) * pixels), zero = zeros.base[image]
                    g.im2col(source.base, inputChannels: channels, into: bytes + (row - first) * rowStride, rowStride: rowStride, firstRow: row,
                             rows: end - row, channelOffset: 0, channels: channels, padding: UInt8(zero))
                    (rowScales + (row - first)).update(repeating: scales.base[image], count: end - row)
                    (rowZeros + (row - first)).update(repeating: zero, count: end - row)
                    row = end
                }
                return .contiguous(bytes)
            }
        }
    }

    /// Whether each row of taps is read in place from a padded copy of the input instead of copied into im2col rows: a
    /// kernel row's taps lie side by side (no dilation across) and span whole words, as the int8 product reads them (or
    /// ``wordRuns`` pads them to words), on the AVX-512 VNNI body (the others would copy the rows together again).
    private func readsTapsInPlace(_ g: WindowGeometry) -> Bool {
        g.dilationX == 1 && ((g.kernelWidth * inputChannels) % 4 == 0 || wordRuns != nil) && g.kernelHeight > 1 && CPU.has(.avx512VNNI)
    }

    /// The convolution of `bytes` (each image's codes, of scale `scales[image]` and zero point `zeros[image]`) as the
    /// product of rows read in place: each image is copied once into a padded image (its zero point around it) — a
    /// ninth of the bytes an im2col of a 3×3 kernel writes — and output pixel `(y, x)`'s row is `kernel.height` runs of
    /// `kernel.width × inputChannels` bytes, one per kernel row, where they lie in it.
    private func multiplyInPlace(_ bytes: SharedReadPointer<UInt8>, batch: Int, geometry g: WindowGeometry, scales: SharedPointer<Float>,
                                 zeros: SharedPointer<Int32>, into output: inout Tensor) {
        let channels = inputChannels, pixels = g.outputHeight * g.outputWidth, product = wordRuns ?? self.product
        let paddedHeight = (g.outputHeight - 1) * g.strideY + (g.kernelHeight - 1) * g.dilationY + 1
        let paddedWidth = (g.outputWidth - 1) * g.strideX + g.kernelWidth, imageBytes = paddedHeight * paddedWidth * channels
        // The last row's last run of ``wordRuns`` reads up to 3 bytes past the image.
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: batch * imageBytes + 3)
        defer { buffer.deallocate() }
        (buffer.baseAddress! + batch * imageBytes).initialize(repeating: 0, count: 3)
        let padded = SharedPointer(buffer.baseAddress!)
        // Padded columns `begin ..< end` hold input columns 0 ..< end − begin.
        let begin = min(g.padLeft, paddedWidth), end = min(g.padLeft + g.inputWidth, paddedWidth), rowBytes = paddedWidth * channels
        Parallel.forEach(batch * paddedHeight) { item in
            let (image, y) = item.quotientAndRemainder(dividingBy: paddedHeight), iy = y - g.padTop
            let row = padded.base + image * imageBytes + y * rowBytes, zero = UInt8(zeros.base[image])
            guard iy >= 0 && iy < g.inputHeight else { return row.update(repeating: zero, count: rowBytes) }
            row.update(repeating: zero, count: begin * channels)
            (row + begin * channels).update(from: bytes.base + ((image * g.inputHeight + iy) * g.inputWidth) * channels, count: (end - begin) * channels)
            (row + end * channels).update(repeating: zero, count: (paddedWidth - end) * channels)
        }
        let runStride = g.dilationY * rowBytes
        product.multiplyCodes(rows: batch * pixels, activation: product.activation, into: &output) { first, count, _, starts, rowScales, rowZeros in
            for row in first..<first + count {
                let (image, pixel) = row.quotientAndRemainder(dividingBy: pixels), (y, x) = pixel.quotientAndRemainder(dividingBy: g.outputWidth)
                starts[row - first] = UnsafePointer(padded.base + image * imageBytes + (y * g.strideY * paddedWidth + x * g.strideX) * channels)
                rowScales[row - first] = scales.base[image]
                rowZeros[row - first] = zeros.base[image]
            }
            return .runs(starts: starts, runs: g.kernelHeight, runStride: runStride)
        }
    }

    /// Each image of `input` to bytes with its own scale and zero point — from its range, or the calibrated
    /// ``Int8Linear/inputRange`` of the product. A batch smaller than the core count splits each image into parts: their
    /// ranges first, combined, then their codes.
    private func quantize(_ input: SharedReadPointer<Float>, batch: Int, imageCount: Int, into codes: SharedPointer<UInt8>,
                          scales: SharedPointer<Float>, zeros: SharedPointer<Int32>) {
        let parts = max(1, Parallel.threadCount / batch), partCount = (imageCount + parts - 1) / parts
        let ranges = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2 * batch * parts)
        defer { ranges.deallocate() }
        let bounds = SharedPointer(ranges.baseAddress!)
        @Sendable func part(_ item: Int) -> (first: Int, count: Int) {
            let (image, index) = item.quotientAndRemainder(dividingBy: parts)
            let start = index * partCount
            return (image * imageCount + min(start, imageCount), max(0, min(partCount, imageCount - start)))
        }
        if let calibrated = product.inputRange {
            for item in 0..<batch * parts { (bounds.base[2 * item], bounds.base[2 * item + 1]) = (calibrated.lowerBound, calibrated.upperBound) }
        } else {
            Parallel.forEach(batch * parts) { item in
                let (first, count) = part(item)
                an_int8_range(input.base + first, count, bounds.base + 2 * item, bounds.base + 2 * item + 1)
            }
        }
        Parallel.forEach(batch * parts) { item in
            let image = item / parts, (first, count) = part(item)
            let low = (0..<parts).map { bounds.base[2 * (image * parts + $0)] }.min()!
            let high = (0..<parts).map { bounds.base[2 * (image * parts + $0) + 1] }.max()!
            // Every part of an image writes the same scale and zero point.
            var scale: Float = 0, zero: Int32 = 0
            an_int8_quantize(input.base + first, count, low, high, codes.base + first, &scale, &zero)
            if item % parts == 0 { scales.base[image] = scale; zeros.base[image] = zero }
        }
    }
}
