import CKernels
import NetCore
import TestSupport
import Testing

@Suite struct ExpandedDepthwiseTests {
    struct Case: Sendable, CustomStringConvertible {
        let inputs, channels, width, stride, dilation, kernel: Int
        let padding: Padding
        let activation: Activation
        var description: String { "\(inputs)→\(channels) ×\(width) \(kernel)×\(kernel)/\(stride) d\(dilation) \(padding) \(activation.name)" }
    }

    /// Maps 20 rows high (bands of up to 8 output rows, so later bands take rows the one before expanded), 2 to 35
    /// pixels wide: few input channels expand whole padded rows, many expand the input's rows and copy them into the
    /// padded ones; channel counts with a partial last panel of 16 and a tail under 8; SAME, unpadded and uneven
    /// explicit padding, strides 1 and 2, dilation, 3×3 and 5×5 (output rows of 35, 30, 7, 11, 13 and 23 pixels: every
    /// tile of the AVX-512 sliding body, 14, 7, 4, 2 and 1, at both strides); a clamp fused into the kernels (ReLU6) or
    /// swish after them.
    static let cases = [Case(inputs: 4, channels: 37, width: 35, stride: 1, dilation: 1, kernel: 3, padding: .same, activation: .relu6),
                        Case(inputs: 24, channels: 40, width: 9, stride: 2, dilation: 1, kernel: 3, padding: .same, activation: .relu6),
                        Case(inputs: 6, channels: 16, width: 20, stride: 1, dilation: 2, kernel: 3, padding: .same, activation: .swish),
                        Case(inputs: 16, channels: 48, width: 23, stride: 2, dilation: 1, kernel: 5, padding: .same, activation: .swish),
                        Case(inputs: 8, channels: 24, width: 13, stride: 2, dilation: 1, kernel: 3,
                             padding: .explicit(top: 2, bottom: 0, left: 3, right: 1), activation: .relu6),
                        Case(inputs: 8, channels: 32, width: 16, stride: 1, dilation: 1, kernel: 5, padding: .valid, activation: .identity),
                        Case(inputs: 16, channels: 64, width: 2, stride: 1, dilation: 2, kernel: 3, padding: .same, activation: .relu),
                        Case(inputs: 8, channels: 37, width: 30, stride: 1, dilation: 1, kernel: 5, padding: .same, activation: .swish),
                        Case(inputs: 16, channels: 32, width: 7, stride: 1, dilation: 1, kernel: 5, padding: .same, activation: .relu6),
                        Case(inputs: 8, channels: 48, width: 22, stride: 2, dilation: 1, kernel: 5, padding: .same, activation: .relu6),
                        Case(inputs: 12, channels: 40, width: 26, stride: 2, dilation: 1, kernel: 5, padding: .same, activation: .swish),
                        Case(inputs: 8, channels: 32, width: 45, stride: 2, dilation: 1, kernel: 3, padding: .same, activation: .relu6)]

    static func layers(_ c: Case) -> (expand: Conv2D, depthwise: DepthwiseConv2D) {
        var random = SeededGenerator(seed: UInt64(c.inputs * 1000 + c.channels * 10 + c.width))
        let expand = Conv2D(inputChannels: c.inputs, outputChannels: c.channels, kernel: (1, 1),
                            weights: random.floats(c.inputs * c.channels, in: -1...1), bias: random.floats(c.channels, in: -1...1),
                            activation: c.activation)
        let depthwise = DepthwiseConv2D(channels: c.channels, kernel: (c.kernel, c.kernel), stride: (c.stride, c.stride),
                                        dilation: (c.dilation, c.dilation), padding: c.padding,
                                        weights: random.floats(c.kernel * c.kernel * c.channels, in: -1...1),
                                        bias: random.floats(c.channels, in: -1...1), activation: c.activation)
        return (expand.planned(for: [[20, c.width, c.inputs]]), depthwise)
    }

    /// Batch 1 (on two cores, fewer than 7 output rows each: the cores share the channels) and 4 (they share the
    /// rows, across images): the fused layer gives the two layers' output — bit for bit where the expansion alone
    /// runs the packed product (AVX2 or AVX-512), as the fused one does; within 1e-5 of it elsewhere.
    @Test(arguments: cases)
    func anExpansionAndItsDepthwiseConvolutionAsOneLayerGiveTheTwoLayersOutput(_ c: Case) throws {
        let (expand, depthwise) = Self.layers(c)
        let fused = try #require(ExpandedDepthwise(expand, then: depthwise))
        let exact = an_packed_gemm_has_body() != 0
        for batch in [1, 4] {
            var random = SeededGenerator(seed: UInt64(batch))
            let input = Tensor(shape: [batch, 20, c.width, c.inputs], scalars: random.floats(batch * 20 * c.width * c.inputs, in: -4...4))
            let separate = depthwise.forward([expand.forward([input])])
            let together = fused.forward([input])
            TestSupport.expectFusedOutput(together, equals: separate, exact: exact, activation: c.activation, "\(c) batch \(batch)")
            #expect(together.scalars.allSatisfy { $0.isFinite }, "\(c) batch \(batch): every value written")
        }
    }

    /// A calibrated int8 expansion fused with its depthwise convolution gives the int8 layer's output convolved by the
    /// depthwise layer — bit for bit where the padded-row convolution has a SIMD body, as in the float32 case — whether
    /// its input arrives as uint8 codes of the calibrated range or as floats it quantizes with that range. The 32-channel
    /// panels of the int8 product leave partial panels (37, 40, 48 channels) in the shares of channels at batch 1. Rows of
    /// 9, 13 and 16 pixels are expanded a band at a time as whole padded rows, the others a row at a time.
    @Test(arguments: cases)
    func aCalibratedInt8ExpansionAndItsDepthwiseConvolutionAsOneLayerGiveTheTwoLayersOutput(_ c: Case) throws {
        let (expand, depthwise) = Self.layers(c)
        let range: ClosedRange<Float> = -4...4
        let int8 = try #require(Int8Linear(expand)).quantizing(inputsIn: range)
        let fused = try #require(ExpandedDepthwise(int8, then: depthwise))
        #expect(fused.typeName == "ExpandedDepthwise (int8)")
        let exact = an_packed_gemm_has_body() != 0
        for batch in [1, 4] {
            var random = SeededGenerator(seed: UInt64(batch))
            let floats = Tensor(shape: [batch, 20, c.width, c.inputs], scalars: random.floats(batch * 20 * c.width * c.inputs, in: -5...5))
            let (values, scale, zero) = referenceInputCodes(floats.scalars, range: range)
            var codes = Tensor(shape: floats.shape) { buffer in
                let bytes = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
                for (index, value) in values.enumerated() { bytes[index] = UInt8(value) }
            }
            codes.codes = Tensor.Quantization(scale: scale, zero: Int32(zero))
            let separate = depthwise.forward([int8.forward([floats])])
            for input in [codes, floats] {
                let together = fused.forward([input])
                TestSupport.expectFusedOutput(together, equals: separate, exact: exact, activation: c.activation,
                                              "\(c) batch \(batch) \(input.codes == nil ? "floats" : "codes")")
                #expect(together.codes == nil && together.scalars.allSatisfy { $0.isFinite }, "\(c) batch \(batch): every value written")
            }
        }
    }

    /// The fused layer's output on two images at each SIMD level of `levels` (the first, then the second).
    static func fusedOutputs(_ c: Case, levels: (Int, Int)) throws -> ([Float], [Float]) {
        let (expand, depthwise) = Self.layers(c)
        let fused = try #require(ExpandedDepthwise(expand, then: depthwise))
        var random = SeededGenerator(seed: 3)
        let input = Tensor(shape: [2, 20, c.width, c.inputs], scalars: random.floats(2 * 20 * c.width * c.inputs, in: -4...4))
        return (CPU.withLevel(levels.0) { fused.forward([input]).scalars }, CPU.withLevel(levels.1) { fused.forward([input]).scalars })
    }

    /// The portable bodies (the packed product's and the padded-row convolution's) agree with the SIMD ones.
    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence), arguments: cases)
    func theFusedLayersPortableBodiesAgreeWithItsAVX2Bodies(_ c: Case) throws {
        let (simd, portable) = try Self.fusedOutputs(c, levels: (SIMDBody.avx2.level, 0))
        #expect(TestSupport.maxAbsDifference(simd, portable) <= 1e-5 * max(1, portable.map(abs).max() ?? 0))
    }

    /// The AVX-512 bodies (the packed product's and the padded-row convolution's) give the AVX2 bodies' bits: the same
    /// sums in the same order, on 16 lanes instead of 8. Swish is left out (identity in its place): each tier's swish
    /// takes its own reciprocal estimate (`KernelTests` checks both against the definition).
    @Test(.enabled(if: SIMDBody.avx512.present, SIMDBody.avx512.absence), arguments: cases)
    func theFusedLayersAVX512BodiesGiveItsAVX2BodiesBits(_ c: Case) throws {
        let sums = c.activation == .swish ? Case(inputs: c.inputs, channels: c.channels, width: c.width, stride: c.stride,
                                                 dilation: c.dilation, kernel: c.kernel, padding: c.padding, activation: .identity) : c
        let (wide, narrow) = try Self.fusedOutputs(sums, levels: (SIMDBody.avx512.level, SIMDBody.avx2.level))
        #expect(wide == narrow, "\(sums): \(TestSupport.maxAbsDifference(wide, narrow))")
    }

    /// An inverted residual block whose expansion feeds only its depthwise convolution becomes one layer; one whose
    /// expansion is read by another node too (a concatenation) keeps both. The output is the unfused network's.
    @Test func onlyAnExpansionThatFeedsNothingButItsDepthwiseConvolutionIsFused() throws {
        var random = SeededGenerator(seed: 5)
        func expansion() -> Conv2D {
            Conv2D(inputChannels: 8, outputChannels: 48, kernel: (1, 1), weights: random.floats(8 * 48, in: -1...1),
                   bias: random.floats(48, in: -1...1))
        }
        func depthwise() -> DepthwiseConv2D {
            DepthwiseConv2D(channels: 48, kernel: (3, 3), padding: .same, weights: random.floats(9 * 48, in: -1...1), bias: random.floats(48, in: -1...1))
        }
        var network = Network(inputShape: [12, 12, 8])
        try network.add("expand", expansion())
        try network.add("expand_relu6", ActivationLayer(.relu6))
        try network.add("depthwise", depthwise())
        try network.add("depthwise_relu6", ActivationLayer(.relu6))
        try network.add("project", Conv2D(inputChannels: 48, outputChannels: 8, kernel: (1, 1), weights: random.floats(48 * 8, in: -1...1)))
        try network.add("expand_2", expansion())
        try network.add("depthwise_2", depthwise())
        try network.add("both", Concat(), inputs: ["expand_2", "depthwise_2"])
        let input = Tensor(shape: [2, 12, 12, 8], scalars: random.floats(2 * 12 * 12 * 8, in: -2...2))
        let prepared = network.optimized().fusingExpansions(float32From: 0)
        let fusedNodes = prepared.nodes.filter { $0.layer is ExpandedDepthwise }.map(\.name)
        if an_packed_gemm_has_body() != 0 {
            #expect(fusedNodes == ["depthwise_relu6"])
        } else {
            #expect(fusedNodes.isEmpty, "the expansions multiply in BLAS here: nothing to fuse")
        }
        let unfused = try network.optimized().run(input)
        #expect(try prepared.run(input).scalars == unfused.scalars)
        #expect(!network.prepared(for: .int8).nodes.contains { $0.layer is ExpandedDepthwise }, "uncalibrated int8 expansions stay alone")
        let calibrated = try network.prepared(for: .int8, calibratedOn: input)
        #expect(calibrated.nodes.filter { $0.layer is ExpandedDepthwise }.map(\.name) == ["depthwise_relu6"], "a calibrated one is fused")
    }

    /// At float32 an expansion whose output takes a megabyte (64×64×64 floats) is merged; a quarter of that (32×32, after
    /// a stride-2 depthwise convolution) stays two layers, which ran faster there. The output is the unfused network's.
    @Test func aFloat32ExpansionIsFusedOnlyWhereItsOutputTakesAMegabyte() throws {
        var random = SeededGenerator(seed: 6)
        var network = Network(inputShape: [64, 64, 8])
        for (suffix, stride) in [("", 2), ("_2", 1)] {
            try network.add("expand" + suffix, Conv2D(inputChannels: 8, outputChannels: 64, kernel: (1, 1),
                                                      weights: random.floats(8 * 64, in: -1...1), activation: .relu6))
            try network.add("depthwise" + suffix, DepthwiseConv2D(channels: 64, kernel: (3, 3), stride: (stride, stride), padding: .same,
                                                                  weights: random.floats(9 * 64, in: -1...1), bias: random.floats(64, in: -1...1)))
            try network.add("project" + suffix, Conv2D(inputChannels: 64, outputChannels: 8, kernel: (1, 1), weights: random.floats(64 * 8, in: -1...1)))
        }
        #expect(ExpandedDepthwise.fusedFloat32Bytes == 64 * 64 * 64 * MemoryLayout<Float>.size)
        let prepared = network.prepared(for: .float32)
        let fusedNodes = prepared.nodes.filter { $0.layer is ExpandedDepthwise }.map(\.name)
        #expect(fusedNodes == (an_packed_gemm_has_body() != 0 ? ["depthwise"] : []))
        #expect(prepared.nodes.contains { $0.name == "expand_2" }, "the 32×32 expansion stays a layer")
        let input = Tensor(shape: [1, 64, 64, 8], scalars: random.floats(64 * 64 * 8, in: -2...2))
        #expect(try prepared.run(input).scalars == network.optimized().run(input).scalars)
    }
}
