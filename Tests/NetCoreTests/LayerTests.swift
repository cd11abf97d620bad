import CKernels
import Formats
import Foundation
import NetCore
import TestSupport
import Testing

/// Loads `Tests/Fixtures/layers/<case>.<name>.npy` (made by Tests/Reference/make_layer_fixtures.py, PyTorch CPU).
func fixture(_ name: String) throws -> Tensor {
    try NPY.read(path: TestSupport.fixture("layers/\(name).npy")).tensor
}

/// Max abs difference relative to the reference's largest magnitude (at least 1).
func relativeError(_ ours: Tensor, _ reference: Tensor) -> Float {
    guard ours.shape == reference.shape else { return .infinity }
    let scale = max(1, reference.scalars.map(abs).max() ?? 0)
    return TestSupport.maxAbsDifference(ours.scalars, reference.scalars) / scale
}

func expectMatches(_ layer: any Layer, _ inputs: [Tensor], _ reference: Tensor, _ label: String) throws {
    let shape = try layer.outputShape(for: inputs.map { Array($0.shape.dropFirst()) })
    #expect([reference.shape[0]] + shape == reference.shape, "\(label): shape")
    let error = relativeError(layer.forward(inputs), reference)
    #expect(error <= 1e-4, "\(label): relative error \(error)")
}

@Suite struct ConvolutionTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String, cout: Int, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), groups: Int, padding: Padding
        var description: String { name }
    }

    static let cases = [
        Case(name: "conv3x3_pad1", cout: 7, kernel: (3, 3), stride: (1, 1), dilation: (1, 1), groups: 1, padding: .symmetric(1, 1)),
        Case(name: "conv3x3_stride2_same_asymmetric", cout: 6, kernel: (3, 3), stride: (2, 2), dilation: (1, 1), groups: 1, padding: .same),
        Case(name: "conv3x3_dilation2", cout: 5, kernel: (3, 3), stride: (1, 1), dilation: (2, 2), groups: 1, padding: .symmetric(2, 2)),
        Case(name: "conv3x3_groups2", cout: 4, kernel: (3, 3), stride: (1, 1), dilation: (1, 1), groups: 2, padding: .symmetric(1, 1)),
        Case(name: "conv1x1", cout: 5, kernel: (1, 1), stride: (1, 1), dilation: (1, 1), groups: 1, padding: .valid),
        Case(name: "conv5x3_stride2x1_valid", cout: 4, kernel: (5, 3), stride: (2, 1), dilation: (1, 1), groups: 1, padding: .valid),
        Case(name: "conv3x3_many_rows", cout: 24, kernel: (3, 3), stride: (1, 1), dilation: (1, 1), groups: 1, padding: .symmetric(1, 1)),
        Case(name: "conv16x1_tall_same", cout: 5, kernel: (16, 1), stride: (1, 1), dilation: (1, 1), groups: 1, padding: .same),
        Case(name: "conv4x4_stride2_same_asymmetric", cout: 4, kernel: (4, 4), stride: (2, 2), dilation: (1, 1), groups: 1, padding: .same),
    ]

    @Test(arguments: cases) func conv2DMatchesPyTorch(_ c: Case) throws {
        let input = try fixture("\(c.name).input")
        let layer = Conv2D(inputChannels: input.shape[3], outputChannels: c.cout, kernel: c.kernel, stride: c.stride,
                           dilation: c.dilation, groups: c.groups, padding: c.padding,
                           weights: try fixture("\(c.name).weight").scalars, bias: try fixture("\(c.name).bias").scalars)
        try expectMatches(layer, [input], try fixture("\(c.name).output"), c.name)
    }

    /// The convolution's definition, summed directly: `out[n, y, x, o] = b[o] + Σ w[ky, kx, c, o] · in[n, y·sy − top + ky·dy,
    /// x·sx − left + kx·dx, c]`, zero outside the input.
    static func direct(_ conv: Conv2D, _ input: Tensor) throws -> Tensor {
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let shape = try conv.outputShape(for: [Array(input.shape.dropFirst())])
        let top = conv.padding.pads(input: height, kernel: conv.kernel.height, stride: conv.stride.y, dilation: conv.dilation.y, axis: 0).before
        let left = conv.padding.pads(input: width, kernel: conv.kernel.width, stride: conv.stride.x, dilation: conv.dilation.x, axis: 1).before
        var output = [Float](), cout = conv.outputChannels
        for n in 0..<batch { for y in 0..<shape[0] { for x in 0..<shape[1] { for o in 0..<cout {
            var sum = conv.bias[o]
            for ky in 0..<conv.kernel.height { for kx in 0..<conv.kernel.width { for c in 0..<channels {
                let iy = y * conv.stride.y - top + ky * conv.dilation.y, ix = x * conv.stride.x - left + kx * conv.dilation.x
                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                sum += conv.weights[((ky * conv.kernel.width + kx) * channels + c) * cout + o] * input.scalars[((n * height + iy) * width + ix) * channels + c]
            } } }
            output.append(sum)
        } } } }
        return Tensor(shape: [batch] + shape, scalars: output)
    }

    /// im2col's one-copy receptive fields — a whole column of a width-1 image (CREPE's frames), a run of pixels per
    /// kernel row otherwise — at strides, with windows that start and end in the padding, and with too few inputs.
    @Test(arguments: [([12, 1, 5], (7, 1), (3, 1), Padding.explicit(top: 4, bottom: 5, left: 0, right: 0)),
                      ([10, 1, 6], (5, 1), (4, 1), .same), ([90, 1, 1], (70, 1), (2, 1), .valid), ([3, 1, 9], (8, 1), (2, 1), .same),
                      ([7, 8, 5], (3, 5), (2, 3), .symmetric(1, 2)), ([6, 5, 6], (2, 7), (1, 2), .same),
                      ([5, 1, 7], (1, 1), (2, 2), .explicit(top: 0, bottom: 0, left: 1, right: 1))])
    func stridedConvolutionsEqualTheirDefinition(input shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: Padding) throws {
        var random = SeededGenerator(seed: UInt64(shape.reduce(0, +) * 31 + kernel.0))
        let (channels, outputs) = (shape[2], 6)
        let conv = Conv2D(inputChannels: channels, outputChannels: outputs, kernel: kernel, stride: stride, padding: padding,
                          weights: random.floats(kernel.0 * kernel.1 * channels * outputs, in: -1...1), bias: random.floats(outputs, in: -1...1))
        let input = Tensor(shape: [2] + shape, scalars: random.floats(2 * shape.reduce(1, *), in: -1...1))
        let planned = conv.planned(for: [shape])
        #expect(planned.algorithm == .im2col, "\(String(describing: planned.algorithm))")
        #expect(relativeError(planned.forward([input]), try Self.direct(conv, input)) <= 1e-5)
    }

    /// Tall 1-D kernels: by FFT in overlap-save segments (one or several per frame, the last one partial; strided
    /// kernels over the input's phases, taps not a multiple of the stride too) where the transforms save multiplies,
    /// else by rows on short outputs (some rows reading only padding).
    @Test(arguments: [([40, 1, 128], 16, 1, Padding.same, ConvolutionAlgorithm.fft), ([37, 1, 128], 16, 1, .valid, .fft),
                      ([130, 1, 128], 64, 1, .same, .fft), ([20, 1, 128], 16, 1, .explicit(top: 3, bottom: 9, left: 0, right: 0), .fft),
                      ([64, 1, 16], 64, 1, .same, .fft), ([1024, 1, 1], 512, 4, .same, .fft),
                      ([300, 1, 8], 30, 3, .explicit(top: 5, bottom: 4, left: 0, right: 0), .fft),
                      ([8, 1, 128], 16, 1, .same, .rows), ([8, 1, 256], 64, 1, .same, .rows),
                      ([12, 1, 128], 16, 1, .explicit(top: 30, bottom: 0, left: 0, right: 0), .rows)])
    func tallKernelConvolutionsEqualTheirDefinition(input shape: [Int], taps: Int, stride: Int, padding: Padding,
                                                    algorithm: ConvolutionAlgorithm) throws {
        var random = SeededGenerator(seed: UInt64(shape[0] * 31 + taps))
        let outputs = 128
        let conv = Conv2D(inputChannels: shape[2], outputChannels: outputs, kernel: (taps, 1), stride: (stride, 1), padding: padding,
                          weights: random.floats(taps * shape[2] * outputs, in: -1...1), bias: random.floats(outputs, in: -1...1))
        let input = Tensor(shape: [3] + shape, scalars: random.floats(3 * shape.reduce(1, *), in: -1...1))
        let planned = conv.planned(for: [shape])
        #expect(planned.algorithm == algorithm, "\(String(describing: planned.algorithm))")
        #expect(relativeError(planned.forward([input]), try Self.direct(conv, input)) <= 1e-5)
    }

    /// A Winograd convolution on maps of fewer than 8 of its 4×4 tiles (7×6: 2 × 2) runs one image by im2col — the bits
    /// of the packed product over the image's columns — and two images (8 tiles) by Winograd, within 1e-5 of its
    /// definition but not those bits.
    @Test(.enabled(if: an_packed_gemm_has_body() != 0, "this processor (or level) has no packed-product body: Winograd runs at every batch"))
    func aWinogradConvolutionOnASmallMapRunsOneImageByIm2col() throws {
        let (height, width, channels, outputs) = (7, 6, 20, 24)
        var random = SeededGenerator(seed: 76)
        let weights = random.floats(9 * channels * outputs, in: -1...1), bias = random.floats(outputs, in: -1...1)
        let conv = Conv2D(inputChannels: channels, outputChannels: outputs, kernel: (3, 3), padding: .same, weights: weights, bias: bias)
            .planned(for: [[height, width, channels]])
        #expect(conv.algorithm == .winograd)
        let images = Tensor(shape: [2, height, width, channels], scalars: random.floats(2 * height * width * channels, in: -1...1))
        // The first image's columns: each output pixel's 3×3 window in (row, column, channel) order — HWIO's rows — zeros
        // outside the image.
        var columns = [Float](repeating: 0, count: height * width * 9 * channels)
        for y in 0..<height { for x in 0..<width { for ky in 0..<3 { for kx in 0..<3 {
            let (iy, ix) = (y + ky - 1, x + kx - 1)
            guard (0..<height).contains(iy) && (0..<width).contains(ix) else { continue }
            for c in 0..<channels {
                columns[((y * width + x) * 9 + ky * 3 + kx) * channels + c] = images.scalars[(iy * width + ix) * channels + c]
            }
        } } } }
        let product = Dense(inputFeatures: 9 * channels, outputFeatures: outputs, weights: weights, bias: bias).planned(for: [[9 * channels]])
        let byColumns = product.forward([Tensor(shape: [height * width, 9 * channels], scalars: columns)]).scalars
        let one = conv.forward([images.rows([0])]).scalars, two = conv.forward([images])
        expectSameBits(one, byColumns, "one image")
        #expect(Array(two.scalars.prefix(one.count)) != byColumns, "two images: Winograd's bits")
        #expect(relativeError(two, try Self.direct(conv, images)) <= 1e-5)
    }

    /// A convolution that keeps only its kernel spectra gives the same bits as the one that keeps its weights too, and
    /// reads back weights equal to its own to float rounding (strided first-layer phases and a plain 64-tap kernel); a
    /// convolution not run by FFT is left with its weights.
    @Test(arguments: [([1024, 1, 1], 512, 4), ([130, 1, 16], 64, 1)])
    func aConvolutionKeepingOnlySpectraRunsAndReadsBackItsWeights(input shape: [Int], taps: Int, stride: Int) throws {
        var random = SeededGenerator(seed: UInt64(taps))
        let outputs = 24, count = taps * shape[2] * outputs
        let weights = random.floats(count, in: -1...1)
        let conv = Conv2D(inputChannels: shape[2], outputChannels: outputs, kernel: (taps, 1), stride: (stride, 1), padding: .same,
                          weights: weights, bias: random.floats(outputs, in: -1...1), activation: .relu).planned(for: [shape])
        let spectral = conv.keepingOnlySpectra(for: shape)
        #expect(!conv.keepsOnlySpectra && spectral.keepsOnlySpectra)
        let input = Tensor(shape: [2] + shape, scalars: random.floats(2 * shape.reduce(1, *), in: -1...1))
        #expect(spectral.forward([input]).scalars == conv.forward([input]).scalars)
        #expect(spectral.weights.count == count && TestSupport.maxAbsDifference(spectral.weights, weights) <= 1e-5)
        #expect(spectral.parameterCount == conv.parameterCount)
        let rows = Conv2D(inputChannels: 128, outputChannels: 8, kernel: (16, 1), padding: .same).planned(for: [[8, 1, 128]])
        #expect(rows.algorithm == .rows && !rows.keepingOnlySpectra(for: [8, 1, 128]).keepsOnlySpectra)
    }

    @Test(arguments: [("depthwise3x3_same", 1, (1, 1), Padding.same),
                      ("depthwise3x3_stride2_same_asymmetric", 1, (2, 2), .same),
                      ("depthwise3x3_multiplier2", 2, (1, 1), .symmetric(1, 1))])
    func depthwiseMatchesPyTorch(name: String, multiplier: Int, stride: (Int, Int), padding: Padding) throws {
        let input = try fixture("\(name).input")
        let layer = DepthwiseConv2D(channels: input.shape[3], multiplier: multiplier, kernel: (3, 3), stride: stride, padding: padding,
                                    weights: try fixture("\(name).weight").scalars, bias: try fixture("\(name).bias").scalars)
        try expectMatches(layer, [input], try fixture("\(name).output"), name)
    }

    /// An activation the kernel cannot fuse (swish) runs after it on each core's share of the rows: every value is
    /// swished exactly once (2 images of 30 rows of 8,192 values).
    @Test func aSwishAfterTheDepthwiseKernelRunsOnceOnEveryValue() {
        var random = SeededGenerator(seed: 11)
        let input = Tensor(shape: [2, 30, 64, 128], scalars: random.floats(2 * 30 * 64 * 128, in: -4...4))
        let weights = random.floats(9 * 128, in: -1...1), bias = random.floats(128, in: -1...1)
        let plain = DepthwiseConv2D(channels: 128, kernel: (3, 3), padding: .same, weights: weights, bias: bias)
        var swished = plain
        swished.activation = .swish
        let expected = plain.forward([input]).scalars.map { $0 / (1 + exp(-$0)) }
        #expect(TestSupport.maxAbsDifference(swished.forward([input]).scalars, expected) <= 1e-5)
    }

    @Test func conv1DMatchesPyTorch() throws {
        let layer = Conv1D(inputChannels: 3, outputChannels: 4, width: 7, stride: 2,
                           padding: .explicit(top: 0, bottom: 0, left: 3, right: 3),
                           weights: try fixture("conv1d_k7_s2_p3.weight").scalars, bias: try fixture("conv1d_k7_s2_p3.bias").scalars)
        try expectMatches(layer, [try fixture("conv1d_k7_s2_p3.input")], try fixture("conv1d_k7_s2_p3.output"), "conv1d")
    }

    /// Thread counts are checked by ParallelTests and the CLI's ThreadCountTests; this is the batch split.
    @Test func convolutionOfTwoImagesEqualsEachImageAloneWithinRounding() throws {
        let input = try fixture("conv3x3_many_rows.input")
        let layer = Conv2D(inputChannels: 16, outputChannels: 24, kernel: (3, 3), padding: .symmetric(1, 1),
                           weights: try fixture("conv3x3_many_rows.weight").scalars, bias: try fixture("conv3x3_many_rows.bias").scalars)
        let both = layer.forward([input])
        let first = layer.forward([Tensor(shape: [1] + input.shape.dropFirst(), scalars: Array(input.scalars[0..<input.count / 2]))])
        // Float rounding only: chunks of Winograd tiles (and so sgemm row blocks) depend on the batch.
        let splitError = relativeError(first, Tensor(shape: first.shape, scalars: Array(both.scalars[0..<both.count / 2])))
        #expect(splitError < 1e-5)
    }
}

@Suite struct OtherLayerTests {
    @Test func denseMatchesPyTorch() throws {
        let layer = Dense(inputFeatures: 13, outputFeatures: 9, weights: try fixture("dense.weight").scalars,
                          bias: try fixture("dense.bias").scalars)
        try expectMatches(layer, [try fixture("dense.input")], try fixture("dense.output"), "dense")
    }

    @Test func batchNormMatchesPyTorch() throws {
        let layer = BatchNorm(gamma: try fixture("batchnorm.gamma").scalars, beta: try fixture("batchnorm.beta").scalars,
                              mean: try fixture("batchnorm.mean").scalars, variance: try fixture("batchnorm.variance").scalars,
                              epsilon: 1e-3)
        try expectMatches(layer, [try fixture("batchnorm.input")], try fixture("batchnorm.output"), "batchnorm")
    }

    @Test func activationsMatchPyTorch() throws {
        let input = try fixture("activations.input")
        let layers: [(String, any Layer)] = [("relu", ActivationLayer(.relu)), ("relu6", ActivationLayer(.relu6)),
                                             ("leaky", ActivationLayer(.leakyReLU(alpha: 0.1))), ("sigmoid", ActivationLayer(.sigmoid)),
                                             ("tanh", ActivationLayer(.tanh)), ("softmax", Softmax()), ("swish", ActivationLayer(.swish))]
        for (name, layer) in layers { try expectMatches(layer, [input], try fixture("activations.\(name)"), name) }
    }

    @Test func poolingMatchesPyTorch() throws {
        let input = try fixture("pooling.input")
        let layers: [(String, any Layer)] = [
            ("max3s2p1", Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1))),
            ("max3s2ceil", Pool2D(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true)),
            ("avg3s1p1_include", Pool2D(.average, kernel: (3, 3), stride: (1, 1), padding: .symmetric(1, 1), countIncludesPadding: true)),
            ("avg3s1p1_exclude", Pool2D(.average, kernel: (3, 3), stride: (1, 1), padding: .symmetric(1, 1))),
            ("avg3s2ceil", Pool2D(.average, kernel: (3, 3), stride: (2, 2), countIncludesPadding: true, ceilMode: true)),
            ("global_avg", GlobalAveragePool()),
        ]
        for (name, layer) in layers { try expectMatches(layer, [input], try fixture("pooling.\(name)"), name) }
    }

    @Test func mergeLayersMatchNumPy() throws {
        let a = try fixture("merge.a"), b = try fixture("merge.b"), c = try fixture("merge.c")
        try expectMatches(Multiply(), [a, b], try fixture("merge.multiply"), "multiply")
        let sum = Add().forward([a, a])
        #expect(sum.scalars == a.scalars.map { $0 + $0 })
        let joined = Concat().forward([a, c])
        #expect(joined.shape == [2, 4, 5, 9])
        #expect(Array(joined.scalars[6..<9]) == Array(c.scalars[0..<3]) && Array(joined.scalars[9..<15]) == Array(a.scalars[6..<12]))
        #expect(throws: NetworkError.self) { try Add().outputShape(for: [[4, 5, 6], [4, 5, 3]]) }
    }

    @Test func localResponseNormMatchesPyTorch() throws {
        try expectMatches(LocalResponseNorm(size: 5, alpha: 5e-3, beta: 0.75, k: 2), [try fixture("lrn.input")],
                          try fixture("lrn.output"), "lrn")
    }

    @Test func channelShuffleMatchesPyTorch() throws {
        try expectMatches(ChannelShuffle(groups: 3), [try fixture("shuffle.input")], try fixture("shuffle.output"), "shuffle")
    }

    /// Every permutation path — a blocked transpose of merged axes, a copy when only unit axes move, the general
    /// walk — puts each element where its index says: `out[i₀, i₁, …] = in[j]` with `j[axes[k]] = i[k]`.
    @Test(arguments: [([2, 3, 5, 7], [0, 2, 3, 1]), ([2, 5, 7, 3], [0, 3, 1, 2]), ([1, 3, 40, 33], [0, 2, 3, 1]), ([37, 65], [1, 0]),
                      ([4, 1, 6], [1, 0, 2]), ([1, 6, 1, 5], [3, 2, 1, 0]), ([2, 3, 4, 5], [2, 0, 3, 1]), ([3, 4, 5], [0, 1, 2])])
    func permutingPutsEachElementWhereItsIndexSays(_ shape: [Int], axes: [Int]) {
        let input = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0) })
        let output = input.permuted(axes)
        #expect(output.shape == axes.map { shape[$0] })
        var expected = [Float](), index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<input.count {
            var source = [Int](repeating: 0, count: shape.count)
            for (k, axis) in axes.enumerated() { source[axis] = index[k] }
            expected.append(Float(source.indices.reduce(0) { $0 * shape[$1] + source[$1] }))
            var k = shape.count - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[axes[k]] { break }; index[k] = 0; k -= 1 }
        }
        #expect(output.scalars == expected)
    }

    @Test func shapeLayersMoveElementsAsNumPyDoes() throws {
        let x = Tensor(shape: [1, 2, 3, 2], scalars: (0..<12).map(Float.init))
        #expect(Flatten().forward([x]).shape == [1, 12])
        #expect(try Reshape([3, -1]).outputShape(for: [[2, 3, 2]]) == [3, 4])
        let permuted = Permute([2, 0, 1]).forward([x])  // [H, W, C] → [C, H, W]
        #expect(permuted.shape == [1, 2, 2, 3] && Array(permuted.scalars[0..<6]) == [0, 2, 4, 6, 8, 10])
        let padded = ZeroPad2D(top: 1, bottom: 0, left: 0, right: 1).forward([x])
        #expect(padded.shape == [1, 3, 4, 2] && padded.scalars[0..<8].allSatisfy { $0 == 0 } && padded.scalars[8] == 0)
        // Negative sizes crop (Keras's Cropping2D): the bottom-right 1×2 of the 2×3 image, then a zero column.
        let cropped = ZeroPad2D(top: -1, bottom: 0, left: -1, right: 1).forward([x])
        #expect(cropped.shape == [1, 1, 3, 2] && cropped.scalars == [8, 9, 10, 11, 0, 0])
        #expect(throws: NetworkError.self) { try ZeroPad2D(top: -2, bottom: 0, left: 0, right: 0).outputShape(for: [[2, 3, 2]]) }
        #expect(Dropout(rate: 0.5).forward([x]) == x)
    }

    /// A model file's reshape target whose product overflows, or holds a negative size or two −1s, is an error
    /// (found by fuzzing the TFLite graph importer: the product trapped).
    @Test(arguments: [[Int.max / 2, 4], [1 << 40, 1 << 40, -1], [-2, 6], [-1, -1]])
    func reshapeToAnImpossibleShapeThrows(_ target: [Int]) {
        #expect(throws: NetworkError.self) { try Reshape(target).outputShape(for: [[2, 3, 2]]) }
    }
}

/// Element-wise arithmetic with NumPy broadcasting, against values worked by hand.
@Suite struct ArithmeticTests {
    /// Large outputs share their rows over the cores, each share starting mid-way through the outer axes: an SE
    /// block's channel scaling and a broadcast along a middle axis give, on three cores, every value worked index by index.
    @Test(arguments: [([2, 33, 47, 40], [2, 1, 1, 40]), ([2, 30, 1, 1100], [1, 1, 5, 1100])])
    func aLargeBroadcastSharedOverTheCoresGivesEveryValue(_ left: [Int], _ right: [Int]) {
        var random = SeededGenerator(seed: 9)
        let a = Tensor(shape: left, scalars: random.floats(left.reduce(1, *), in: -2...2))
        let b = Tensor(shape: right, scalars: random.floats(right.reduce(1, *), in: -2...2))
        let shape = zip(left, right).map { max($0, $1) }
        Parallel.setThreadCount(3)
        defer { Parallel.setThreadCount(nil) }
        let result = Arithmetic(.multiply).forward([a, b])
        #expect(result.shape == shape && result.count >= 65_536, "large enough to be shared")
        func offset(_ t: Tensor, _ index: [Int]) -> Int {
            zip(t.shape, index).reduce(0) { $0 * $1.0 + ($1.0 == 1 ? 0 : $1.1) }
        }
        var wrong = 0
        for flat in 0..<result.count {
            var index = [Int](repeating: 0, count: shape.count), rest = flat
            for axis in shape.indices.reversed() { index[axis] = rest % shape[axis]; rest /= shape[axis] }
            if result.scalars[flat] != a.scalars[offset(a, index)] * b.scalars[offset(b, index)] { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of \(result.count) values")
    }


    @Test func aConstantOnTheLeftIsTheMinuendAndTheDividend() {
        let x = Tensor(shape: [2, 1, 3], scalars: [1, 2, 4, 8, 16, 32])  // two examples of [1, 3]
        let constant = Tensor(shape: [2, 1], scalars: [10, 20])           // broadcast to [2, 3]
        let difference = Arithmetic(.subtract, constant: constant, constantFirst: true).forward([x])
        #expect(difference.shape == [2, 2, 3])
        #expect(difference.scalars == [9, 8, 6, 19, 18, 16, 2, -6, -22, 12, 4, -12])
        let quotient = Arithmetic(.divide, constant: Tensor(shape: [3], scalars: [2, 4, 8])).forward([x])
        #expect(quotient.scalars == [0.5, 0.5, 0.5, 4, 4, 4])
    }

    @Test func twoInputsBroadcastAgainstEachOther() throws {
        let a = Tensor(shape: [1, 2, 1], scalars: [1, 2]), b = Tensor(shape: [1, 1, 3], scalars: [10, 20, 30])
        #expect(Arithmetic(.add).forward([a, b]).scalars == [11, 21, 31, 12, 22, 32])
        #expect(Arithmetic(.multiply).forward([a, b]).scalars == [10, 20, 30, 20, 40, 60])
        #expect(throws: NetworkError.self) { try Arithmetic(.add).outputShape(for: [[2], [3]]) }
    }

    /// A row's operands each step along it or stay on one broadcast value: all four pairs, all four operations,
    /// against the broadcast worked out index by index.
    @Test(arguments: [([1, 3, 5], [1, 3, 5]), ([1, 3, 5], [1, 3, 1]), ([1, 3, 1], [1, 1, 5]), ([1, 3, 1], [1, 1, 1])])
    func everyStepPairMatchesTheBroadcastIndexByIndex(_ left: [Int], _ right: [Int]) {
        var random = SeededGenerator(seed: 5)
        let a = Tensor(shape: left, scalars: random.floats(left.reduce(1, *), in: 1...2))
        let b = Tensor(shape: right, scalars: random.floats(right.reduce(1, *), in: 1...2))
        let (rows, columns) = (max(left[1], right[1]), max(left[2], right[2]))
        func value(_ t: Tensor, _ row: Int, _ column: Int) -> Float {
            t.scalars[(t.shape[1] == 1 ? 0 : row) * t.shape[2] + (t.shape[2] == 1 ? 0 : column)]
        }
        let operations: [(Arithmetic.Operation, (Float, Float) -> Float)] = [(.add, +), (.subtract, -), (.multiply, *), (.divide, /)]
        for (operation, expected) in operations {
            let result = Arithmetic(operation).forward([a, b])
            #expect(result.shape == [1, rows, columns])
            let worked = (0..<rows).flatMap { row in (0..<columns).map { expected(value(a, row, $0), value(b, row, $0)) } }
            #expect(result.scalars == worked, "\(operation) of \(left) and \(right)")
        }
    }
}
