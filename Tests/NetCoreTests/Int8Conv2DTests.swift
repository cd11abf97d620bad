import NetCore
import TestSupport
import Testing

/// The int8 windowed convolution (``Int8Conv2D``): each image quantized with its own scale and zero point, im2col on
/// bytes, the int8 product.
@Suite struct Int8Conv2DTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let height, width, channels, outputs: Int
        let kernel, stride, dilation: (Int, Int)
        let padding: Padding
        var testDescription: String { "\(height)×\(width)×\(channels)→\(outputs) k\(kernel) s\(stride) d\(dilation) \(padding)" }

        /// The output size and the padding above and left of the image, worked out here from the definitions (TensorFlow's
        /// SAME: the output is ⌈input / stride⌉ and the padding needed for it is split, the extra row or column after).
        func window(_ input: Int, _ k: Int, _ s: Int, _ d: Int, vertical: Bool) -> (size: Int, before: Int) {
            let extent = (k - 1) * d + 1
            switch padding {
            case .valid: return ((input - extent) / s + 1, 0)
            case .same:
                let size = (input + s - 1) / s
                return (size, max((size - 1) * s + extent - input, 0) / 2)
            case .explicit(let top, let bottom, let left, let right):
                let (before, after) = vertical ? (top, bottom) : (left, right)
                return ((input + before + after - extent) / s + 1, before)
            }
        }
    }

    /// A SAME 3×3; a 7×7 stem at stride 2 on 3 channels; strided 1×1s (ResNet's downsampling; SAME on odd sizes, which
    /// pads nothing); a dilated, strided kernel with uneven padding; a width-1 column (the copy of whole runs in im2col).
    /// Where a kernel row's taps span whole words (the 3×2, the 5×1 and the two 3×3s on 4 and 8 channels — ResNet's, at
    /// strides 1 and 2), or are padded to words by zero weights (the 3×3 on 5 channels, the 7×7 stem), the AVX-512 VNNI
    /// body reads them in place from a padded copy of the image instead.
    static let cases = [
        Case(height: 9, width: 11, channels: 5, outputs: 7, kernel: (3, 3), stride: (1, 1), dilation: (1, 1), padding: .same),
        Case(height: 9, width: 11, channels: 8, outputs: 36, kernel: (3, 3), stride: (1, 1), dilation: (1, 1), padding: .same),
        Case(height: 10, width: 7, channels: 4, outputs: 9, kernel: (3, 3), stride: (2, 2), dilation: (1, 1), padding: .same),
        Case(height: 15, width: 13, channels: 3, outputs: 33, kernel: (7, 7), stride: (2, 2), dilation: (1, 1),
             padding: .explicit(top: 3, bottom: 3, left: 3, right: 3)),
        Case(height: 8, width: 10, channels: 16, outputs: 40, kernel: (1, 1), stride: (2, 2), dilation: (1, 1), padding: .valid),
        Case(height: 7, width: 9, channels: 12, outputs: 20, kernel: (1, 1), stride: (2, 3), dilation: (1, 1), padding: .same),
        Case(height: 10, width: 9, channels: 6, outputs: 12, kernel: (3, 2), stride: (1, 2), dilation: (2, 1),
             padding: .explicit(top: 1, bottom: 2, left: 0, right: 1)),
        Case(height: 12, width: 1, channels: 8, outputs: 20, kernel: (5, 1), stride: (1, 1), dilation: (1, 1), padding: .valid),
    ]

    /// Two images of different ranges (the second all positive: zero point 0), so that each must use its own scale.
    static func input(_ c: Case, random: inout SeededGenerator) -> Tensor {
        let size = c.height * c.width * c.channels
        return Tensor(shape: [2, c.height, c.width, c.channels], scalars: random.floats(size, in: -1...3) + random.floats(size, in: 0...20))
    }

    static func convolution(_ c: Case, random: inout SeededGenerator, activation: Activation = .identity) -> Conv2D {
        let depth = c.kernel.0 * c.kernel.1 * c.channels
        return Conv2D(inputChannels: c.channels, outputChannels: c.outputs, kernel: c.kernel, stride: c.stride, dilation: c.dilation,
                      padding: c.padding, weights: random.floats(depth * c.outputs, in: -0.5...0.5), bias: random.floats(c.outputs, in: -1...1),
                      activation: activation)
    }

    /// The documented scheme computed directly, without im2col: each image's codes (from its range, or the calibrated
    /// `range`), each output pixel the exact integer sum over the taps inside the image (a tap in the padding reads 0, whose
    /// code is the zero point: it adds nothing).
    static func reference(_ c: Case, input: Tensor, conv: Conv2D, range: ClosedRange<Float>? = nil) -> [Float] {
        let (height, width, channels, outputs) = (c.height, c.width, c.channels, c.outputs)
        let rows = c.window(height, c.kernel.0, c.stride.0, c.dilation.0, vertical: true)
        let columns = c.window(width, c.kernel.1, c.stride.1, c.dilation.1, vertical: false)
        let depth = c.kernel.0 * c.kernel.1 * channels, imageSize = height * width * channels
        let (qw, weightScales) = referenceWeightCodes(conv.weights, k: depth, n: outputs)
        var result: [Float] = []
        for image in 0..<input.shape[0] {
            // Quantized with the range of the whole image — or for a strided 1×1 kernel, of the pixels on its grid only.
            let values = input.scalars[image * imageSize..<(image + 1) * imageSize]
            let gridOnly = c.kernel == (1, 1) && c.stride != (1, 1)
            let read = !gridOnly ? Array(values) : (0..<rows.size).flatMap { oy in
                (0..<columns.size).flatMap { ox in values.dropFirst((oy * c.stride.0 * width + ox * c.stride.1) * channels).prefix(channels) }
            }
            let (_, scale, zero) = referenceInputCodes(read, range: range)
            let qx = referenceInputCodes(values, range: range ?? min(0, read.min()!)...max(0, read.max()!)).codes
            for oy in 0..<rows.size {
                for ox in 0..<columns.size {
                    for o in 0..<outputs {
                        var dot = 0
                        for ky in 0..<c.kernel.0 {
                            for kx in 0..<c.kernel.1 {
                                let y = oy * c.stride.0 - rows.before + ky * c.dilation.0, x = ox * c.stride.1 - columns.before + kx * c.dilation.1
                                guard (0..<height).contains(y), (0..<width).contains(x) else { continue }
                                for i in 0..<channels {
                                    dot += (qx[(y * width + x) * channels + i] - zero) * qw[((ky * c.kernel.1 + kx) * channels + i) * outputs + o]
                                }
                            }
                        }
                        result.append(Float(Double(dot) * Double(scale) * Double(weightScales[o]) + Double(conv.bias[o])))
                    }
                }
            }
        }
        return result
    }

    @Test(arguments: cases) func anInt8ConvolutionIsTheExactProductOfEachImagesQuantizedValues(_ c: Case) throws {
        var random = SeededGenerator(seed: UInt64(c.height * 100 + c.channels * 10 + c.outputs))
        let input = Self.input(c, random: &random), conv = Self.convolution(c, random: &random)
        let int8 = try #require(Int8Conv2D(conv))
        let ours = int8.forward([input]).scalars, reference = Self.reference(c, input: input, conv: conv)
        #expect(ours.count == reference.count)
        let error = TestSupport.maxAbsDifference(ours, reference) / max(1, reference.map(abs).max()!)
        #expect(error <= 1e-5, "\(c.testDescription): relative error \(error)")
    }

    @Test(arguments: cases) func anInt8ConvolutionStaysWithinQuantizationErrorOfFloat32(_ c: Case) throws {
        var random = SeededGenerator(seed: UInt64(c.width * 100 + c.outputs))
        let input = Self.input(c, random: &random), conv = Self.convolution(c, random: &random)
        let float = conv.forward([input]).scalars, int8 = try #require(Int8Conv2D(conv)).forward([input]).scalars
        let range = float.map(abs).max()!, error = TestSupport.maxAbsDifference(int8, float)
        // Two 8-bit roundings per product, over 8 to 147 terms: under 2 % of the output range.
        #expect(error <= 0.02 * range, "\(c.testDescription): max |int8 − float| \(error), output range \(range)")
        #expect(error > 0, "the int8 path must actually quantize")
        // ReLU6 runs as the kernel's clamp.
        var clamped = conv
        clamped.activation = .relu6
        let six = try #require(Int8Conv2D(clamped)).forward([input]).scalars
        #expect(six.allSatisfy { (0...6).contains($0) } && six.contains(6) && six.contains(0), "\(c.testDescription)")
    }

    /// Each int8 SIMD body gives the portable body's bits (the AVX2 body reads the bytes widened to pairs), with a NaN in
    /// the input (skipped by the range, quantized to code 0).
    func simdBodyAgreesBitForBitWithThePortableBody(_ body: SIMDBody) throws {
        for c in Self.cases {
            var random = SeededGenerator(seed: UInt64(c.channels + c.outputs))
            var input = Self.input(c, random: &random)
            input.scalars[c.channels + 1] = .nan
            let layer = try #require(Int8Conv2D(Self.convolution(c, random: &random, activation: .relu)))
            let simd = CPU.withLevel(body.level) { layer.forward([input]).scalars }
            let portable = withPortableKernels { layer.forward([input]).scalars }
            expectSameBits(simd, portable, "\(body.name) \(c.testDescription)")
        }
    }

    @Test(.enabled(if: SIMDBody.int8Tiles.present, SIMDBody.int8Tiles.absence))
    func amxBodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.int8Tiles) }

    @Test(.enabled(if: SIMDBody.int8Wide.present, SIMDBody.int8Wide.absence))
    func avx512VNNIBodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.int8Wide) }

    @Test(.enabled(if: SIMDBody.int8Narrow.present, SIMDBody.int8Narrow.absence))
    func avxVNNIBodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.int8Narrow) }

    @Test(.enabled(if: Int8LinearTests.int8AVX2Runs, Int8LinearTests.int8AVX2Absence))
    func avx2BodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.avx2) }

    /// A batch of one image gives that image's rows of the batch of two: each image has its own scale.
    @Test func eachImageIsQuantizedOnItsOwn() throws {
        let c = Self.cases[0]
        var random = SeededGenerator(seed: 5)
        let input = Self.input(c, random: &random), layer = try #require(Int8Conv2D(Self.convolution(c, random: &random)))
        let both = layer.forward([input]).scalars, size = c.height * c.width * c.channels
        let second = layer.forward([Tensor(shape: [1, c.height, c.width, c.channels], scalars: Array(input.scalars[size...]))]).scalars
        #expect(Array(both[(both.count / 2)...]) == second)
    }
}
