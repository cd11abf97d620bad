import Foundation
import CKernels
import NetCore
import TestSupport
import Testing

/// Weights quantized as documented: per column, symmetric, scale max|w|/127, codes rounded to nearest even.
func referenceWeightCodes(_ w: [Float], k: Int, n: Int) -> (codes: [Int], scales: [Float]) {
    let scales = (0..<n).map { column -> Float in
        let largest = (0..<k).map { abs(w[$0 * n + column]) }.max()!
        return largest > 0 ? largest / 127 : 1
    }
    return ((0..<k * n).map { Int(max(-127, min(127, (w[$0] / scales[$0 % n]).rounded(.toNearestOrEven)))) }, scales)
}

/// Values quantized as documented: to uint8 with one scale and zero point, the range — theirs, or a calibrated one —
/// widened to contain 0, the values outside it clamped.
func referenceInputCodes<Values: Collection<Float>>(_ values: Values, range: ClosedRange<Float>? = nil) -> (codes: [Int], scale: Float, zero: Int) {
    let low = min(0, range?.lowerBound ?? values.min()!), high = max(0, range?.upperBound ?? values.max()!)
    let scale: Float = high > low ? (high - low) / 255 : 1, inverse = 1 / scale
    let zero = high > low ? Int(max(0, min(255, (-low * inverse).rounded(.toNearestOrEven)))) : 0
    return (values.map { Int(max(0, min(255, ($0 * inverse).rounded(.toNearestOrEven) + Float(zero)))) }, scale, zero)
}

/// The int8 product computed independently: the documented quantization (weights per column; each input row to uint8
/// with its own scale and zero point, or all with the calibrated `range`'s), exact integer dot products, rescaled in
/// double.
func referenceInt8Product(_ x: [Float], rows: Int, k: Int, _ w: [Float], n: Int, bias: [Float], range: ClosedRange<Float>? = nil) -> [Float] {
    let (qw, columnScales) = referenceWeightCodes(w, k: k, n: n)
    var result = [Float](repeating: 0, count: rows * n)
    for r in 0..<rows {
        let (qx, scale, zero) = referenceInputCodes(x[r * k..<(r + 1) * k], range: range)
        for column in 0..<n {
            var dot = 0
            for i in 0..<k { dot += (qx[i] - zero) * qw[i * n + column] }
            result[r * n + column] = Float(Double(dot) * Double(scale) * Double(columnScales[column]) + Double(bias[column]))
        }
    }
    return result
}

/// Checks that a SIMD body's output has the portable body's bits, and that every value was written (finite). Both
/// arrays stay alive until the comparison ends: a body that skipped an element must not find the right value left in a
/// buffer the other body just freed.
func expectSameBits(_ simd: [Float], _ portable: [Float], _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    withExtendedLifetime((simd, portable)) {
        let mismatch = simd.indices.first { simd[$0].bitPattern != portable[$0].bitPattern }
        #expect(mismatch == nil, "\(context): first difference at \(mismatch ?? -1)", sourceLocation: sourceLocation)
        #expect(simd.allSatisfy { $0.isFinite }, "\(context)", sourceLocation: sourceLocation)
    }
}

/// Runs `body` on the portable C bodies.
func withPortableKernels<T>(_ body: () throws -> T) rethrows -> T { try CPU.withLevel(0, body) }

/// A SIMD body of a kernel: the features it needs and the level that selects it.
struct SIMDBody: CustomTestStringConvertible, Sendable {
    let name: String
    let features: CPU.Features
    let level: Int
    var testDescription: String { name }

    /// The tile body of the int8 product (rows in blocks of 16 or more, of 64 codes or more; the AVX-512 VNNI body otherwise).
    static let int8Tiles = SIMDBody(name: "AMX int8", features: .amxInt8, level: 3)
    static let int8Wide = SIMDBody(name: "AVX-512 VNNI", features: .avx512VNNI, level: 2)
    static let int8Narrow = SIMDBody(name: "AVX-VNNI", features: .avxVNNI, level: 1)
    static let avx512 = SIMDBody(name: "AVX-512", features: .avx512, level: 2)
    /// The 8-lane bodies of the depthwise and stem kernels (processors with AVX2 and FMA, no AVX-512).
    static let avx2 = SIMDBody(name: "AVX2", features: .avx2, level: 1)

    /// Whether the processor has this body's instructions; the reason printed when a test is skipped.
    var present: Bool { CPU.detected.contains(features) }
    var absence: Comment { "this processor has no \(name) (it has: \(CPU.detected)); its body cannot run here (no emulator in reach has it either)" }
}

@Suite struct Int8LinearTests {
    /// Shapes with every tail: rows not a multiple of the 12-row tile, k not a multiple of 4, n not of 16 or 32.
    /// Rows past a block of 16 and k past the VNNI body's 64 and 32 codes at a time (117 = 64 + 32 + 21); whole blocks of
    /// rows of 32 and 64 values (the VNNI body's unrolled blocks; YAMNet's first pointwise layers).
    static let shapes = [(rows: 1, k: 3, n: 1), (rows: 13, k: 37, n: 45), (rows: 29, k: 64, n: 32), (rows: 200, k: 70, n: 100),
                         (rows: 40, k: 117, n: 33), (rows: 48, k: 32, n: 64)]

    @Test(arguments: shapes) func productEqualsTheExactProductOfTheQuantizedValues(rows: Int, k: Int, n: Int) {
        var random = SeededGenerator(seed: UInt64(rows * 1000 + k * 10 + n))
        let x = random.floats(rows * k, in: -1...3), w = random.floats(k * n, in: -0.5...0.5), bias = random.floats(n, in: -1...1)
        let layer = Int8Linear(inputFeatures: k, outputFeatures: n, weights: w, bias: bias, activation: .identity)
        let ours = layer.forward([Tensor(shape: [rows, k], scalars: x)]).scalars
        let reference = referenceInt8Product(x, rows: rows, k: k, w, n: n, bias: bias)
        let scale = max(1, reference.map(abs).max()!)
        let error = TestSupport.maxAbsDifference(ours, reference) / scale
        #expect(error <= 1e-5, "\(rows)×\(k)×\(n): relative error \(error)")
    }

    @Test func productStaysWithinQuantizationErrorOfFloat() {
        var random = SeededGenerator(seed: 7)
        let (rows, k, n) = (64, 256, 96)
        let x = random.floats(rows * k, in: 0...2), w = random.floats(k * n, in: -0.1...0.1), bias = random.floats(n, in: -1...1)
        let input = Tensor(shape: [rows, k], scalars: x)
        let float = Dense(inputFeatures: k, outputFeatures: n, weights: w, bias: bias).forward([input]).scalars
        let int8 = Int8Linear(inputFeatures: k, outputFeatures: n, weights: w, bias: bias, activation: .identity).forward([input]).scalars
        let range = float.map(abs).max()!
        let error = TestSupport.maxAbsDifference(int8, float)
        // Two 8-bit roundings per product, averaged over 256 terms: well under 1 % of the output range.
        #expect(error <= 0.01 * range, "max |int8 − float| \(error), output range \(range)")
        #expect(error > 0, "the int8 path must actually quantize")
    }

    /// Sigmoid and swish run a vectorized e^x: within 2e-6 relative of their float64 definitions from −100 to 100 and
    /// far beyond (where e^x saturates, the results differ from the definitions by under 1e-30), NaN kept — at the
    /// default level and on each body: the portable one (which divides) and the AVX2 and AVX-512 ones (a reciprocal
    /// estimate and a Newton step) — 40,009 values: a tail after whole vectors.
    @Test func sigmoidAndSwishMatchTheirDefinitionsOverTheFloatRange() {
        Self.expectSigmoidAndSwishMatchTheirDefinitions()
    }

    @Test func sigmoidAndSwishPortableBodyMatchesTheirDefinitions() {
        withPortableKernels { Self.expectSigmoidAndSwishMatchTheirDefinitions() }
    }

    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence))
    func sigmoidAndSwishAVX2BodyMatchesTheirDefinitions() {
        CPU.withLevel(SIMDBody.avx2.level) { Self.expectSigmoidAndSwishMatchTheirDefinitions() }
    }

    @Test(.enabled(if: SIMDBody.avx512.present, SIMDBody.avx512.absence))
    func sigmoidAndSwishAVX512BodyMatchesTheirDefinitions() {
        CPU.withLevel(SIMDBody.avx512.level) { Self.expectSigmoidAndSwishMatchTheirDefinitions() }
    }

    static func expectSigmoidAndSwishMatchTheirDefinitions() {
        let inputs = (-20_000...20_000).map { Float($0) / 200 } + [-1e30, -88.5, -87.5, 87.5, 88.5, 1e30, .infinity]
        for activation in [Activation.sigmoid, .swish] {
            var values = inputs + [.nan]
            values.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
            #expect(values.last!.isNaN, "\(activation.name) keeps NaN")
            for (x, ours) in zip(inputs, values) {
                let sigmoid = 1 / (1 + Foundation.exp(-Double(x)))
                let exact = activation == .sigmoid ? sigmoid : (x.isInfinite ? Double(x) : Double(x) * sigmoid)
                let error = exact.isInfinite ? (Double(ours) == exact ? 0 : .infinity) : abs(Double(ours) - exact)
                #expect(error <= 2e-6 * abs(exact) + 1e-30, "\(activation.name)(\(x)) = \(ours), exactly \(exact)")
            }
        }
    }

    @Test(arguments: [Activation.relu, .relu6, .swish]) func activationsMatchTheFloatLayersActivation(activation: Activation) {
        var random = SeededGenerator(seed: 11)
        let (rows, k, n) = (30, 40, 20)
        let x = random.floats(rows * k, in: -1...1), w = random.floats(k * n, in: -1...1), bias = random.floats(n, in: -1...1)
        let input = Tensor(shape: [rows, k], scalars: x)
        let float = Dense(inputFeatures: k, outputFeatures: n, weights: w, bias: bias, activation: activation).forward([input]).scalars
        let int8 = Int8Linear(inputFeatures: k, outputFeatures: n, weights: w, bias: bias, activation: activation).forward([input]).scalars
        #expect(TestSupport.maxAbsDifference(int8, float) <= 0.15, "\(activation.name)")
        if activation == .relu6 { #expect(int8.allSatisfy { (0...6).contains($0) }) }
    }

    /// The AMX body's tails: a second tile of one row (17), a second block of one (33), k past a whole tile of 64 codes
    /// (300: the last tile reads 20 codes and 44 zeros), panels of 16 columns (one half) and of 1, and past the 192-row
    /// blocks the VNNI body hands it (250).
    static let tileShapes = [(rows: 17, k: 64, n: 16), (rows: 33, k: 300, n: 48), (rows: 16, k: 1000, n: 33), (rows: 250, k: 130, n: 70)]

    /// Each int8 SIMD body gives the portable body's bits, on inputs with a NaN and a row of zeros (a range of nothing).
    func simdBodyAgreesBitForBitWithThePortableBody(_ body: SIMDBody, shapes: [(rows: Int, k: Int, n: Int)] = shapes) {
        #expect(CPU.withLevel(body.level) { CPU.has(body.features) }, "the level selects the \(body.name) body")
        for (rows, k, n) in shapes {
            var random = SeededGenerator(seed: UInt64(rows + k + n))
            var values = random.floats(rows * k, in: -2...2)
            values[k - 1] = .nan  // the last of a row: skipped by both bodies' range search alike
            if rows > 1 { for i in k..<2 * k { values[i] = 0 } }
            let input = Tensor(shape: [rows, k], scalars: values)
            let layer = Int8Linear(inputFeatures: k, outputFeatures: n, weights: random.floats(k * n, in: -1...1),
                                   bias: random.floats(n, in: -1...1), activation: .relu)
            // Each body first, into fresh memory: a body that skipped an element must not find the right value left
            // in a buffer another body just freed.
            let simd = CPU.withLevel(body.level) { layer.forward([input]).scalars }
            let portable = withPortableKernels { layer.forward([input]).scalars }
            expectSameBits(simd, portable, "\(body.name) \(rows)×\(k)×\(n)")
        }
    }

    @Test(.enabled(if: SIMDBody.int8Tiles.present, SIMDBody.int8Tiles.absence))
    func amxBodyAgreesBitForBitWithThePortableBody() {
        simdBodyAgreesBitForBitWithThePortableBody(.int8Tiles, shapes: Self.shapes + Self.tileShapes)
    }

    @Test(.enabled(if: SIMDBody.int8Wide.present, SIMDBody.int8Wide.absence))
    func avx512VNNIBodyAgreesBitForBitWithThePortableBody() { simdBodyAgreesBitForBitWithThePortableBody(.int8Wide) }

    @Test(.enabled(if: SIMDBody.int8Narrow.present, SIMDBody.int8Narrow.absence))
    func avxVNNIBodyAgreesBitForBitWithThePortableBody() { simdBodyAgreesBitForBitWithThePortableBody(.int8Narrow) }

    /// The AVX2 int8 body runs where AVX2 is the widest int8 tier: a processor with AVX-VNNI runs that body at level 1.
    static let int8AVX2Runs = SIMDBody.avx2.present && !SIMDBody.int8Narrow.present && !SIMDBody.int8Wide.present
    static let int8AVX2Absence: Comment = SIMDBody.avx2.present
        ? "this processor has a VNNI int8 body (it has: \(CPU.detected)), which runs instead of the AVX2 one; the emulated Haswell of CPUTierTests runs it"
        : SIMDBody.avx2.absence

    @Test(.enabled(if: int8AVX2Runs, int8AVX2Absence))
    func avx2BodyAgreesBitForBitWithThePortableBody() { simdBodyAgreesBitForBitWithThePortableBody(.avx2) }

    /// The int8 store writing codes gives the portable body's bytes in each int8 SIMD body this processor has, for every
    /// kind of store: codes from zero (zero point 0 and a lower bound whose code is 0, which the AVX-512 store leaves to
    /// its saturating narrowing) and about a zero point, clamped to 6 or not, with a residual of codes or none, the rows
    /// sharing a zero point or each with its own — on values that reach NaN, ±infinity and past both ends of the codes
    /// (biases of NaN, ±∞ and ±1e30); 29 rows (two 12-row tiles, a 4-row one and one) × 40 columns (a panel and 8).
    func simdBodyWritesThePortableBodysCodesForEveryKindOfStore(_ body: SIMDBody) {
        let (rows, k, n) = (29, 64, 40)
        var random = SeededGenerator(seed: 52)
        var packed = [Int8](repeating: 0, count: an_int8_packed_size(Int32(k), Int32(n)))
        var scales = [Float](repeating: 0, count: n), sums = [Int32](repeating: 0, count: n)
        an_int8_pack_weights(random.floats(k * n, in: -1...1), Int32(k), Int32(n), &packed, &scales, &sums)
        let bias = [.nan, .infinity, -.infinity, 1e30, -1e30] + random.floats(n - 5, in: -3...3)
        let codes = (0..<rows * k).map { _ in UInt8.random(in: 0...255, using: &random) }
        let residual = (0..<rows * n).map { _ in UInt8.random(in: 0...255, using: &random) }
        let ownZeros = (0..<rows).map { _ in Int32.random(in: 0...255, using: &random) }, ownScales = random.floats(rows, in: 0.001...0.01)
        func stored(zero: Int32, lo: Float, hi: Float, addsResidual: Bool, rowsShare: Bool) -> [UInt8] {
            var output = [UInt8](repeating: 0xAA, count: rows * n)
            let zeros = rowsShare ? [Int32](repeating: 5, count: rows) : ownZeros
            let rowScales = rowsShare ? [Float](repeating: 0.004, count: rows) : ownScales
            output.withUnsafeMutableBufferPointer { out in
                residual.withUnsafeBufferPointer { addend in
                    var store = an_int8_store()
                    store.codes = out.baseAddress
                    (store.codeInverse, store.codeZero, store.lo, store.hi, store.ld) = (20, zero, lo, hi, Int32(n))
                    if addsResidual { (store.addendCodes, store.addendScale, store.addendZero) = (addend.baseAddress, 0.05, 3) }
                    #expect(an_int8_linear_codes(Int32(rows), Int32(n), Int32(k), codes, rowScales, zeros, packed, scales, sums, bias, store) == 0)
                }
            }
            return output
        }
        for zero: Int32 in [0, 37] {
            for (lo, hi) in [(Float(0), Float.infinity), (-.infinity, .infinity), (0, 6)] {
                for addsResidual in [false, true] {
                    for rowsShare in [true, false] {
                        let context = "zero point \(zero), clamp \(lo)…\(hi), residual \(addsResidual), rows share \(rowsShare)"
                        let portable = withPortableKernels { stored(zero: zero, lo: lo, hi: hi, addsResidual: addsResidual, rowsShare: rowsShare) }
                        #expect(Set(portable).count > 100, "\(context): codes across the range")
                        let simd = CPU.withLevel(body.level) { stored(zero: zero, lo: lo, hi: hi, addsResidual: addsResidual, rowsShare: rowsShare) }
                        let mismatch = simd.indices.first { simd[$0] != portable[$0] }
                        #expect(mismatch == nil, "\(body.name), \(context): code \(mismatch.map { "\(simd[$0]) at \($0), not \(portable[$0])" } ?? "")")
                    }
                }
            }
        }
    }

    @Test(.enabled(if: SIMDBody.int8Tiles.present, SIMDBody.int8Tiles.absence))
    func amxBodyWritesThePortableBodysCodes() { simdBodyWritesThePortableBodysCodesForEveryKindOfStore(.int8Tiles) }

    @Test(.enabled(if: SIMDBody.int8Wide.present, SIMDBody.int8Wide.absence))
    func avx512VNNIBodyWritesThePortableBodysCodes() { simdBodyWritesThePortableBodysCodesForEveryKindOfStore(.int8Wide) }

    @Test(.enabled(if: SIMDBody.int8Narrow.present, SIMDBody.int8Narrow.absence))
    func avxVNNIBodyWritesThePortableBodysCodes() { simdBodyWritesThePortableBodysCodesForEveryKindOfStore(.int8Narrow) }

    /// Floats become codes by the documented rule — `clamp(rint(x × inverse) + zero, 0, 255)`, ties to even, NaN to 0 —
    /// at every level this processor runs (the AVX-512 body, the AVX2 clone, the baseline): ties, values past both ends,
    /// infinities, NaN, and a count that leaves a partial vector.
    @Test func floatsBecomeCodesByTheDocumentedRuleAtEveryLevel() {
        let inverse: Float = 4, zero: Int32 = 37
        var values: [Float] = [0.125, 0.375, -0.125, -0.375, 2.625, 1e9, -1e9, .infinity, -.infinity, .nan, 54.4, -9.25, -9.375]
        var random = SeededGenerator(seed: 41)
        values += random.floats(40, in: -12...60)
        let expected = values.map { x -> UInt8 in
            let v = (x * inverse).rounded(.toNearestOrEven) + Float(zero)
            return v.isNaN ? 0 : UInt8(max(0, min(255, v)))
        }
        for level in 0...2 {
            var codes = [UInt8](repeating: 0xAA, count: values.count)
            CPU.withLevel(level) { an_int8_codes(values, values.count, inverse, zero, &codes) }
            #expect(codes == expected, "level \(level)")
        }
        #expect(expected[0] == 37 && expected[1] == 39 && expected[4] == 47, "ties go to the even neighbour")
    }

    /// The padded-row depthwise convolution writing codes writes the codes of the floats it writes otherwise, byte for
    /// byte, at every level this processor runs (on AVX-512 from the registers, elsewhere through a row of floats), and
    /// nothing outside its channels: 3×3 rows of 19 pixels (tiles of 12, 4, 2 and 1) at strides 1 and 2, a 5×5 kernel
    /// (the tap-by-tap path), 37 channels (a partial block) whole or from channel 16 on.
    @Test(arguments: [(kernel: 3, stride: 1), (kernel: 3, stride: 2), (kernel: 5, stride: 1)])
    func depthwiseCodesAreTheCodesOfItsFloatsAtEveryLevel(kernel: Int, stride: Int) {
        let channels = 37, outputWidth = 19, rows = 3
        var shape = AnWindowShape(inputHeight: 8, inputWidth: 8, inputChannels: Int32(channels), outputChannels: Int32(channels),
                                  kernelHeight: Int32(kernel), kernelWidth: Int32(kernel), strideY: Int32(stride), strideX: Int32(stride),
                                  dilationY: 1, dilationX: 1, padTop: 0, padLeft: 0, outputHeight: Int32(rows), outputWidth: Int32(outputWidth))
        let paddedWidth = Int(an_depthwise_padded_width(&shape)), rowStride = paddedWidth * channels
        var random = SeededGenerator(seed: UInt64(kernel * 10 + stride))
        let padded = random.floats(((rows - 1) * stride + kernel) * rowStride, in: -1...1)
        let weights = random.floats(kernel * kernel * channels, in: -1...1), bias = random.floats(channels, in: -1...1)
        let (inverse, zero): (Float, Int32) = (40, 90)  // codes of -2.25...4.125: both ends are reached
        let count = rows * outputWidth * channels
        for level in 0...2 {
            for first in [0, 16] {
                var floats = [Float](repeating: 0, count: count), expected = [UInt8](repeating: 0xAA, count: count)
                var codes = expected, line = [Float](repeating: 0, count: outputWidth * channels)
                CPU.withLevel(level) {
                    an_depthwise_padded(&shape, padded, rowStride, Int32(rows), Int32(first), Int32(channels - first), weights, bias,
                                        -1.5, 6, &floats)
                    for pixel in 0..<rows * outputWidth {
                        let at = pixel * channels + first
                        floats[at..<at + channels - first].withUnsafeBufferPointer { values in
                            expected.withUnsafeMutableBufferPointer { an_int8_codes(values.baseAddress!, values.count, inverse, zero, $0.baseAddress! + at) }
                        }
                    }
                    an_depthwise_padded_codes(&shape, padded, rowStride, Int32(rows), Int32(first), Int32(channels - first), weights, bias,
                                              -1.5, 6, inverse, zero, &line, &codes)
                }
                let wrong = zip(codes, expected).filter { $0 != $1 }.count
                #expect(wrong == 0, "level \(level), channels from \(first): \(wrong) of \(count) codes differ")
                #expect(Set(codes).count > 100, "level \(level): the codes spread over the range")
            }
        }
    }

    /// A level that allows a body the processor lacks never selects it (a Zen 4 has AVX-512 VNNI but no
    /// AVX-VNNI: level 1 must then run the portable body, not the AVX-VNNI one).
    @Test(arguments: [SIMDBody.int8Tiles, .int8Wide, .int8Narrow, .avx512, .avx2])
    func aLevelNeverSelectsABodyTheProcessorLacks(_ body: SIMDBody) {
        for level in 0...3 {
            let selected = CPU.withLevel(level) { CPU.has(body.features) }
            #expect(selected == (body.present && level >= body.level), "\(body.name) at level \(level)")
        }
    }

    /// The matrix products become int8: 1×1 convolutions and dense layers as ``Int8Linear``, the convolutions planned as
    /// im2col or Winograd (a strided 1×1 included) as ``Int8Conv2D``; a few-input stem, a grouped and a depthwise
    /// convolution stay float32.
    @Test func int8QuantizedReplacesTheMatrixProductsOnly() throws {
        var network = Network(inputShape: [16, 15, 3])
        try network.add("stem", Conv2D(inputChannels: 3, outputChannels: 8, kernel: (3, 3), padding: .same))
        try network.add("spatial", Conv2D(inputChannels: 8, outputChannels: 16, kernel: (3, 3), padding: .same))
        try network.add("winograd", Conv2D(inputChannels: 16, outputChannels: 16, kernel: (3, 3), padding: .same))
        try network.add("grouped", Conv2D(inputChannels: 16, outputChannels: 16, kernel: (3, 3), groups: 4, padding: .same))
        try network.add("depthwise", DepthwiseConv2D(channels: 16, kernel: (3, 3), padding: .same))
        try network.add("pointwise", Conv2D(inputChannels: 16, outputChannels: 16, kernel: (1, 1), activation: .relu))
        try network.add("strided", Conv2D(inputChannels: 16, outputChannels: 16, kernel: (1, 1), stride: (2, 2)))
        try network.add("pool", GlobalAveragePool())
        try network.add("dense", Dense(inputFeatures: 16, outputFeatures: 4))
        let algorithms = network.nodes.prefix(4).map { ($0.layer as? Conv2D)?.algorithm }
        #expect(algorithms == [.fewInputs, .im2col, .winograd, .im2col])
        let types = network.int8Quantized().nodes.map(\.layer.typeName)
        #expect(types == ["Conv2D", "Conv2D (int8)", "Conv2D (int8)", "GroupedConv2D", "DepthwiseConv2D", "Conv2D (int8)", "Conv2D (int8)",
                          "GlobalAveragePool", "Dense (int8)"])
        #expect(network.int8Quantized().nodes.filter { $0.layer is Int8Conv2D }.map(\.name) == ["spatial", "winograd", "strided"])
    }
}

/// The packed float product of ungrouped 1×1 convolutions (bias and clamp fused) against the BLAS product that runs
/// without its body.
@Suite struct PackedProductTests {
    /// Rows off the 6-row tile (every tail 1–5), columns off the 16-column panel, odd depths; a last panel of 8 columns or
    /// fewer (1, 24, 100 columns), which runs 12 rows at a time, then 6, then one by one; on several cores 13 rows split
    /// the panels across them, 200 rows split the rows, and 2,000 rows take each core's share in several blocks.
    static let shapes = [(rows: 1, k: 3, n: 1), (rows: 11, k: 17, n: 16), (rows: 13, k: 64, n: 45), (rows: 200, k: 33, n: 100),
                         (rows: 2000, k: 40, n: 300), (rows: 34, k: 24, n: 24)]

    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence), arguments: shapes)
    func packedBodyAgreesWithTheBLASProduct(rows: Int, k: Int, n: Int) {
        var random = SeededGenerator(seed: UInt64(rows + k + n))
        var values = random.floats(rows * k, in: -3...3)
        values[k / 2] = .nan  // the first row: NaN through every activation, as the separate pass leaves it
        let input = Tensor(shape: [1, rows, 1, k], scalars: values)
        let weights = random.floats(k * n, in: -1...1), bias = random.floats(n, in: -1...1)
        for activation in [Activation.identity, .relu6, .swish] {
            let conv = Conv2D(inputChannels: k, outputChannels: n, kernel: (1, 1), weights: weights, bias: bias,
                              activation: activation).planned(for: [[rows, 1, k]])
            #expect(conv.algorithm == .pointwise)
            let packed = CPU.withLevel(SIMDBody.avx2.level) { conv.forward([input]).scalars }
            let blas = withPortableKernels { conv.forward([input]).scalars }
            let scale = max(1, blas.filter(\.isFinite).map(abs).max() ?? 1)
            #expect(TestSupport.maxAbsDifference(packed, blas) / scale <= 1e-5, "\(rows)×\(k)×\(n) \(activation.name)")
            #expect(packed[0..<n].allSatisfy(\.isNaN) && packed[n...].allSatisfy(\.isFinite), "\(activation.name)")
            if activation == .relu6 && rows > 1 { #expect(packed[n...].contains(6) && packed[n...].contains(0), "the clamp ran") }
        }
    }
}

extension PackedProductTests {
    /// A dense layer planned where the packed product has its body multiplies on packed panels, bias and clamp fused,
    /// as BLAS does (a classifier at batch 1: one row, panels shared by the cores); a BatchNorm folded into it after
    /// planning repacks them.
    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence), arguments: shapes)
    func aPlannedDenseLayerAgreesWithTheBLASProduct(rows: Int, k: Int, n: Int) {
        var random = SeededGenerator(seed: UInt64(3 * rows + k + n))
        let input = Tensor(shape: [rows, k], scalars: random.floats(rows * k, in: -3...3))
        let weights = random.floats(k * n, in: -1...1), bias = random.floats(n, in: -1...1)
        let scale = random.floats(n, in: 0.5...2), shift = random.floats(n, in: -1...1)
        for activation in [Activation.identity, .relu6, .swish] {
            var planned = CPU.withLevel(SIMDBody.avx2.level) {
                Dense(inputFeatures: k, outputFeatures: n, weights: weights, bias: bias, activation: activation).planned(for: [[k]])
            }
            var plain = Dense(inputFeatures: k, outputFeatures: n, weights: weights, bias: bias, activation: activation)
            for step in ["planned", "folded"] {
                let packed = CPU.withLevel(SIMDBody.avx2.level) { planned.forward([input]).scalars }
                let blas = plain.forward([input]).scalars
                let largest = max(1, blas.map(abs).max() ?? 1)
                #expect(TestSupport.maxAbsDifference(packed, blas) / largest <= 1e-5, "\(rows)×\(k)×\(n) \(activation.name) \(step)")
                planned.fold(scale: scale, shift: shift)
                plain.fold(scale: scale, shift: shift)
            }
        }
    }
}

extension PackedProductTests {
    /// The AVX-512 body (12 rows × two 16-column panels) sums each output as the AVX2 body does — bias, then one fused
    /// multiply-add per k in order, then the residual — so the two give the same bits: every row tail of the 12-row tile,
    /// an odd panel alone, a partial last panel alone or beside a whole one, a share of the panels starting mid-matrix,
    /// with and without bias and addend, NaN kept through the clamp.
    @Test(.enabled(if: SIMDBody.avx512.present, SIMDBody.avx512.absence),
          arguments: [(rows: 1, k: 5, n: 7), (rows: 11, k: 64, n: 16), (rows: 12, k: 3, n: 40), (rows: 25, k: 37, n: 100),
                      (rows: 49, k: 130, n: 64), (rows: 7, k: 1, n: 1000)])
    func theAVX512BodyGivesTheAVX2BodysBits(rows: Int, k: Int, n: Int) {
        var random = SeededGenerator(seed: UInt64(5 * rows + k + n))
        var a = random.floats(rows * k, in: -3...3)
        a[0] = .nan
        let weights = random.floats(k * n, in: -1...1), bias = random.floats(n, in: -1...1), addend = random.floats(rows * n, in: -4...4)
        var packed = [Float](repeating: 0, count: an_packed_size(Int32(k), Int32(n)))
        an_pack_panels(weights, Int32(k), Int32(n), &packed)
        let panels = an_packed_panels(Int32(n)), skipped = panels > 2 ? 1 : 0
        for (low, high) in [(-Float.infinity, Float.infinity), (0, 6)] {
            for (withBias, withAddend) in [(true, true), (false, false), (true, false)] {
                func product(level: Int) -> [Float] {
                    var c = [Float](repeating: -7, count: rows * n)
                    CPU.withLevel(level) {
                        an_packed_gemm(Int32(rows), Int32(n), Int32(k), a, Int32(k), packed, withBias ? bias : nil,
                                       withAddend ? addend : nil, low, high, &c, Int32(n), Int32(skipped), panels - Int32(skipped))
                    }
                    return c
                }
                let wide = product(level: SIMDBody.avx512.level), narrow = product(level: SIMDBody.avx2.level)
                let context = "\(rows)×\(k)×\(n) clamp \(low)…\(high) bias \(withBias) addend \(withAddend)"
                #expect(wide.map(\.bitPattern) == narrow.map(\.bitPattern), "\(context)")
                let firstColumn = 16 * skipped
                let firstRowNaN = wide[firstColumn..<n].allSatisfy { $0.isNaN }
                #expect(firstRowNaN, "\(context): NaN kept")
                let written = (0..<rows).allSatisfy { r in !wide[(r * n + firstColumn)..<(r * n + n)].contains(-7) }
                let untouched = (0..<rows).allSatisfy { r in wide[(r * n)..<(r * n + firstColumn)].allSatisfy { $0 == -7 } }
                #expect(written, "\(context): columns written")
                #expect(untouched, "\(context): the skipped panel left alone")
            }
        }
    }
}

/// Global average pooling against means summed in double, on blocks of 32 channels and 32 positions and their tails,
/// one image (its positions or its channels shared by the cores) and several.
@Suite struct GlobalAverageTests {
    @Test(arguments: [(batch: 1, positions: 1, channels: 1), (batch: 1, positions: 33, channels: 7), (batch: 2, positions: 100, channels: 33),
                      (batch: 1, positions: 49, channels: 1280), (batch: 3, positions: 31, channels: 64), (batch: 1, positions: 65, channels: 100)])
    func meansEqualDoubleSumsOfEveryChannel(batch: Int, positions: Int, channels: Int) {
        var random = SeededGenerator(seed: UInt64(batch * positions + channels))
        let values = random.floats(batch * positions * channels, in: -4...6)
        let output = GlobalAveragePool().forward([Tensor(shape: [batch, positions, 1, channels], scalars: values)])
        #expect(output.shape == [batch, channels])
        var reference = [Float]()
        for image in 0..<batch {
            for c in 0..<channels {
                let sum = (0..<positions).reduce(0.0) { $0 + Double(values[(image * positions + $1) * channels + c]) }
                reference.append(Float(sum / Double(positions)))
            }
        }
        #expect(TestSupport.maxAbsDifference(output.scalars, reference) <= 2e-6, "\(batch)×\(positions)×\(channels)")
    }

    /// One image on 1, 2 and 3 cores: a map of at least 7 rows a core shares its positions (in multiples of 32 rows of
    /// the map, the shares' double totals added in order), a smaller one its channels. Each gives the double sums' means
    /// within 2e-6, and the one-core means bit for bit (these float sums of 32 positions add exactly in double).
    @Test(arguments: [(rows: 56, width: 56, channels: 96), (rows: 20, width: 45, channels: 200), (rows: 7, width: 7, channels: 1152)])
    func oneImageSharedByTheCoresGivesTheOneCoreMeans(rows: Int, width: Int, channels: Int) {
        var random = SeededGenerator(seed: UInt64(rows * width + channels))
        let positions = rows * width, values = random.floats(positions * channels, in: -4...6)
        let input = Tensor(shape: [1, rows, width, channels], scalars: values)
        let reference = (0..<channels).map { c in
            Float((0..<positions).reduce(0.0) { $0 + Double(values[$1 * channels + c]) } / Double(positions))
        }
        var outputs = [[Float]]()
        for threads in 1...3 {
            Parallel.setThreadCount(threads)
            defer { Parallel.setThreadCount(nil) }
            outputs.append(GlobalAveragePool().forward([input]).scalars)
            #expect(TestSupport.maxAbsDifference(outputs.last!, reference) <= 2e-6, "\(rows)×\(width)×\(channels) on \(threads) cores")
        }
        #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0], "\(rows)×\(width)×\(channels): the same means on 1, 2, 3 cores")
    }

    /// A map of no pixels averages to NaN, as a mean of no values, rather than reading an empty buffer.
    @Test func anEmptyMapAveragesToNaN() {
        let output = GlobalAveragePool().forward([Tensor(shape: [2, 0, 3, 5], scalars: [])])
        #expect(output.shape == [2, 5] && output.scalars.allSatisfy(\.isNaN))
    }
}

/// Max pooling's window kernel (64 channels of maxima in registers) against the windows' maxima taken here: 100 channels
/// (a block of 64 and a tail of 36), ResNet's 3×3/2 with padding 1 (windows cut by every edge), a NaN passed over as
/// `max` passes it over, on 1 and 2 cores.
@Suite struct WindowMaxTests {
    @Test func maxPoolingOfManyChannelsGivesEachWindowsMaximum() {
        let (batch, height, width, channels) = (2, 9, 11, 100)
        var random = SeededGenerator(seed: 17)
        var values = random.floats(batch * height * width * channels, in: -5...5)
        values[(1 * height * width + 4 * width + 5) * channels + 70] = .nan
        let input = Tensor(shape: [batch, height, width, channels], scalars: values)
        let pool = Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1))
        let (outHeight, outWidth) = (5, 6)
        var reference = [Float]()
        for image in 0..<batch {
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    for c in 0..<channels {
                        var maximum = -Float.infinity
                        for iy in max(oy * 2 - 1, 0)...min(oy * 2 + 1, height - 1) {
                            for ix in max(ox * 2 - 1, 0)...min(ox * 2 + 1, width - 1) {
                                maximum = max(maximum, values[((image * height + iy) * width + ix) * channels + c])
                            }
                        }
                        reference.append(maximum)
                    }
                }
            }
        }
        #expect(!reference.contains { $0.isNaN } && reference.count == batch * outHeight * outWidth * channels)
        for threads in 1...2 {
            Parallel.setThreadCount(threads)
            defer { Parallel.setThreadCount(nil) }
            let output = pool.forward([input])
            #expect(output.shape == [batch, outHeight, outWidth, channels])
            #expect(output.scalars == reference, "\(threads) cores: \(TestSupport.maxAbsDifference(output.scalars, reference))")
        }
    }
}

@Suite struct WindowKernelTests {
    /// Channel counts off the 16- and 8-lane blocks and output widths off the 8-pixel tile (every tile of 8, 4, 2 and
    /// 1 pixels), with stride, dilation and SAME padding; widths of 20 and more have interior tiles (no tap outside the
    /// input); maps 1 and 2 pixels wide (YAMNet's last layers) have more padding than input.
    /// 3×3 kernels with TensorFlow's SAME padding, 5×5 ones (EfficientNet's) with SAME and unpadded, and uneven explicit
    /// padding; maps 1–35 pixels wide, so that the 8-, 4-, 2- and 1-pixel tiles and the channel tails all run, and one
    /// 70 wide, whose 3×3 rows the AVX2 body takes in tiles rather than in one pass per channel block and the AVX-512
    /// body in sliding tiles of 14 (each input pixel loaded once for the taps it serves); 5×5 rows of 30 and 11 pixels,
    /// which the AVX-512 sliding body takes as 14 + 14 + 2 and 7 + 4 (37 channels: two whole blocks, then a tail by the
    /// other body). Whole 16-channel blocks, which the AVX-512 body reads straight from the unpadded input (tiles at a
    /// row's ends skip the taps outside it, rows at the top and bottom the tap rows outside): YAMNet's 32-pixel rows
    /// (3×3 rows whose width is a multiple of 16 run 16-pixel tiles: 16 + 16, both end tiles short of input), 8-pixel
    /// ones (one 8-pixel tile, at stride 1 and at stride 2) and 2-pixel ones (one tile short at both ends), stride 2 with
    /// SAME's padding on the right only, a 5×5 kernel wider than its 3-pixel rows, uneven explicit padding, unpadded, and
    /// 48-pixel rows of 64 channels (four blocks an output row).
    static let depthwiseShapes = [(channels: 37, width: 11, stride: 1, dilation: 1, kernel: 3, padding: Padding.same),
                                  (channels: 16, width: 9, stride: 2, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 5, width: 20, stride: 1, dilation: 2, kernel: 3, padding: .same),
                                  (channels: 24, width: 35, stride: 2, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 8, width: 2, stride: 1, dilation: 2, kernel: 3, padding: .same),
                                  (channels: 3, width: 1, stride: 2, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 12, width: 23, stride: 2, dilation: 1, kernel: 5, padding: .same),
                                  (channels: 9, width: 16, stride: 1, dilation: 1, kernel: 5, padding: .valid),
                                  (channels: 37, width: 30, stride: 1, dilation: 1, kernel: 5, padding: .same),
                                  (channels: 32, width: 11, stride: 1, dilation: 1, kernel: 5, padding: .same),
                                  (channels: 10, width: 13, stride: 2, dilation: 1, kernel: 3, padding: .explicit(top: 2, bottom: 0, left: 3, right: 1)),
                                  (channels: 20, width: 70, stride: 1, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 32, width: 32, stride: 1, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 48, width: 2, stride: 1, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 16, width: 4, stride: 2, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 32, width: 3, stride: 1, dilation: 1, kernel: 5, padding: .same),
                                  (channels: 32, width: 23, stride: 2, dilation: 1, kernel: 5, padding: .same),
                                  (channels: 16, width: 13, stride: 2, dilation: 1, kernel: 3, padding: .explicit(top: 2, bottom: 0, left: 3, right: 1)),
                                  (channels: 16, width: 16, stride: 1, dilation: 1, kernel: 5, padding: .valid),
                                  (channels: 64, width: 48, stride: 1, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 16, width: 8, stride: 1, dilation: 1, kernel: 3, padding: .same),
                                  (channels: 32, width: 16, stride: 2, dilation: 1, kernel: 3, padding: .same)]

    func depthwiseBodyAgreesWithThePortableBody(_ body: SIMDBody, channels: Int, width: Int, stride: Int, dilation: Int, kernel: Int,
                                                padding: Padding) {
        #expect(CPU.withLevel(body.level) { CPU.has(body.features) }, "the level selects the \(body.name) body")
        var random = SeededGenerator(seed: UInt64(channels * width))
        let input = Tensor(shape: [2, 7, width, channels], scalars: random.floats(2 * 7 * width * channels, in: -8...8))
        let layer = DepthwiseConv2D(channels: channels, kernel: (kernel, kernel), stride: (stride, stride), dilation: (dilation, dilation),
                                    padding: padding, weights: random.floats(kernel * kernel * channels, in: -1...1),
                                    bias: random.floats(channels, in: -1...1), activation: .relu6)
        let simd = CPU.withLevel(body.level) { layer.forward([input]).scalars }
        let portable = withPortableKernels { layer.forward([input]).scalars }
        #expect(TestSupport.maxAbsDifference(simd, portable) <= 1e-5)
        #expect(simd.contains(6) && simd.contains(0), "the clamp ran")
    }

    @Test(.enabled(if: SIMDBody.avx512.present, SIMDBody.avx512.absence), arguments: depthwiseShapes)
    func depthwiseAVX512BodyAgreesWithThePortableBody(channels: Int, width: Int, stride: Int, dilation: Int, kernel: Int, padding: Padding) {
        depthwiseBodyAgreesWithThePortableBody(.avx512, channels: channels, width: width, stride: stride, dilation: dilation, kernel: kernel,
                                               padding: padding)
    }

    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence), arguments: depthwiseShapes)
    func depthwiseAVX2BodyAgreesWithThePortableBody(channels: Int, width: Int, stride: Int, dilation: Int, kernel: Int, padding: Padding) {
        depthwiseBodyAgreesWithThePortableBody(.avx2, channels: channels, width: width, stride: stride, dilation: dilation, kernel: kernel,
                                               padding: padding)
    }

    /// The stem kernel (1–4 input channels): output channels off the 16-lane block (and, at 21 and 5, off the
    /// 8-lane half), widths off the pixel tiles; one input channel (the AVX-512 body's padded rows) at both strides;
    /// ResNet's 7×7 stride-2 stem, a dilated kernel and an 11×11 kernel taller than the image (kernel rows and tiles
    /// wholly in the padding).
    static let fewInputsShapes = [(inputs: 1, outputs: 32, kernel: 3, stride: 2, dilation: 1), (inputs: 1, outputs: 24, kernel: 3, stride: 1, dilation: 1),
                                  (inputs: 3, outputs: 21, kernel: 3, stride: 1, dilation: 1), (inputs: 3, outputs: 5, kernel: 3, stride: 2, dilation: 1),
                                  (inputs: 3, outputs: 64, kernel: 7, stride: 2, dilation: 1), (inputs: 2, outputs: 16, kernel: 3, stride: 1, dilation: 2),
                                  (inputs: 4, outputs: 40, kernel: 11, stride: 4, dilation: 1)]

    func fewInputsBodyAgreesWithThePortableBody(_ body: SIMDBody, inputs: Int, outputs: Int, kernel: Int, stride: Int, dilation: Int) {
        #expect(CPU.withLevel(body.level) { CPU.has(body.features) }, "the level selects the \(body.name) body")
        var random = SeededGenerator(seed: UInt64(inputs * outputs))
        // 30 columns: tiles of 6 and 14 pixels clear of the padding, tiles that reach it on either side, a partial last tile.
        let input = Tensor(shape: [2, 9, 30, inputs], scalars: random.floats(2 * 9 * 30 * inputs, in: -1...1))
        let layer = Conv2D(inputChannels: inputs, outputChannels: outputs, kernel: (kernel, kernel), stride: (stride, stride),
                           dilation: (dilation, dilation), padding: .same, weights: random.floats(kernel * kernel * inputs * outputs, in: -1...1),
                           bias: random.floats(outputs, in: -1...1), activation: .relu)
        #expect(ConvolutionAlgorithm.choose(for: layer, input: [9, 30, inputs]) == .fewInputs)
        let simd = CPU.withLevel(body.level) { layer.forward([input]).scalars }
        let portable = withPortableKernels { layer.forward([input]).scalars }
        #expect(TestSupport.maxAbsDifference(simd, portable) <= 1e-5)
    }

    @Test(.enabled(if: SIMDBody.avx512.present, SIMDBody.avx512.absence), arguments: fewInputsShapes)
    func fewInputsAVX512BodyAgreesWithThePortableBody(inputs: Int, outputs: Int, kernel: Int, stride: Int, dilation: Int) {
        fewInputsBodyAgreesWithThePortableBody(.avx512, inputs: inputs, outputs: outputs, kernel: kernel, stride: stride, dilation: dilation)
    }

    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence), arguments: fewInputsShapes)
    func fewInputsAVX2BodyAgreesWithThePortableBody(inputs: Int, outputs: Int, kernel: Int, stride: Int, dilation: Int) {
        fewInputsBodyAgreesWithThePortableBody(.avx2, inputs: inputs, outputs: outputs, kernel: kernel, stride: stride, dilation: dilation)
    }

    /// Winograd F(4×4, 3×3) (16+ channels, stride 1) against a direct double-precision convolution, on odd
    /// output sizes (edge tiles), channel counts off the 16- and 8-lane blocks, a clamp and a non-clamp activation,
    /// and its portable C transforms against each SIMD body this processor has.
    @Test(arguments: [Activation.relu6, .swish])
    func winogradMatchesADirectConvolutionOnEdgeTiles(activation: Activation) {
        let (batch, height, width, cin, cout) = (2, 9, 7, 17, 21)  // 4×4 tiles: partial in both directions
        var random = SeededGenerator(seed: 99)
        let x = random.floats(batch * height * width * cin, in: -2...2), w = random.floats(9 * cin * cout, in: -0.5...0.5)
        let bias = random.floats(cout, in: -1...1)
        let layer = Conv2D(inputChannels: cin, outputChannels: cout, kernel: (3, 3), padding: .same, weights: w, bias: bias,
                           activation: activation)
        let input = Tensor(shape: [batch, height, width, cin], scalars: x)
        let ours = layer.forward([input]).scalars
        var reference = [Float](repeating: 0, count: batch * height * width * cout)
        for n in 0..<batch { for y in 0..<height { for xo in 0..<width { for o in 0..<cout {
            var sum = Double(bias[o])
            for ky in 0..<3 { for kx in 0..<3 {
                let iy = y + ky - 1, ix = xo + kx - 1
                guard iy >= 0 && iy < height && ix >= 0 && ix < width else { continue }
                for i in 0..<cin { sum += Double(x[((n * height + iy) * width + ix) * cin + i]) * Double(w[((ky * 3 + kx) * cin + i) * cout + o]) }
            } }
            var value = Float(sum)
            activation.apply(&value, count: 1)
            reference[((n * height + y) * width + xo) * cout + o] = value
        } } } }
        #expect(TestSupport.maxAbsDifference(ours, reference) <= 1e-4)
        let portable = withPortableKernels { layer.forward([input]).scalars }
        for body in [SIMDBody.avx512, .avx2] where body.present {
            let simd = CPU.withLevel(body.level) { layer.forward([input]).scalars }
            #expect(TestSupport.maxAbsDifference(simd, portable) <= 1e-5)
        }
    }
}

/// OpenBLAS runs the kernels this processor allows in the command, not the generic ones its build falls back to on
/// processors it does not know.
@Suite struct OpenBLASKernelTests {
    @Test func theCommandRunsTheKernelsThisProcessorAllows() throws {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else {
            print("OPENBLAS_CORETYPE is set by the user: not checked")
            return
        }
        guard let allowed = CPU.openBLASKernels else {
            print("this processor (or AUDIONET_SIMD_LEVEL=0) has neither AVX-512 nor AVX2: OpenBLAS chooses \(GEMM.kernels) itself, not checked")
            return
        }
        // The command prints OpenBLAS's choice as it loads when OPENBLAS_VERBOSE=2.
        let result = try TestSupport.run(["--version"], environment: ["OPENBLAS_VERBOSE": "2"])
        let core = result.stderr.split(separator: "\n").compactMap { $0.firstMatch(of: /Core: (\w+)/)?.output.1 }.last.map(String.init)
        // The command may run on a wider processor than this process sees (the CPU-tier tests run this one emulated).
        #expect(result.status == 0 && core != nil && core != "Prescott",
                "the command runs \(core ?? "?") on a processor that allows \(allowed) (this test process: \(GEMM.kernels))")
    }

    /// OpenBLAS is on one thread from the start, before any layer runs: nothing sets it later, while another thread
    /// may be inside a product (this process has 2 or more cores; OpenBLAS's default is one thread a core).
    @Test func openBLASRunsOnOneThreadFromTheStart() {
        #expect(GEMM.openBLASThreads == 1)
    }
}
