import NetCore
import TestSupport
import Testing

/// Calibrated int8 layers passing uint8 codes between them (``Network/exchangingCodes()``) instead of floats.
@Suite struct CodeExchangeTests {
    static func conv(_ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, random: inout SeededGenerator) -> Conv2D {
        Conv2D(inputChannels: inputs, outputChannels: outputs, kernel: (kernel, kernel), stride: (stride, stride), padding: .same,
               weights: random.floats(kernel * kernel * inputs * outputs, in: -0.4...0.4), bias: random.floats(outputs, in: -0.5...0.5))
    }

    /// A ResNet stem and bottleneck: a windowed convolution, max pooling, reduce (1×1), 3×3, projection (1×1) added to the
    /// block's input, a strided 1×1 downsampling; then average pooling and a dense layer. With `residual` false, the
    /// projection is not added to anything.
    /// `width` multiplies the inner layers' channels (8: every product but the stem's reads 64 codes or more a row).
    static func network(residual: Bool, width: Int = 1, random: inout SeededGenerator) throws -> Network {
        var network = Network(inputShape: [10, 10, 8])
        try network.add("stem", conv(8, 16 * width, kernel: 3, random: &random))
        try network.add("stem.relu", ActivationLayer(.relu))
        try network.add("maxpool", Pool2D(.max, kernel: (3, 3), stride: (1, 1), padding: .same))
        try network.add("reduce", conv(16 * width, 8 * width, kernel: 1, random: &random))
        try network.add("reduce.relu", ActivationLayer(.relu))
        try network.add("window", conv(8 * width, 8 * width, kernel: 3, random: &random))
        try network.add("window.relu", ActivationLayer(.relu))
        try network.add("projection", conv(8 * width, 16 * width, kernel: 1, random: &random))
        if residual {
            try network.add("add", Add(activation: .relu), inputs: ["projection", "maxpool"])
        }
        try network.add("downsample", conv(16 * width, 12, kernel: 1, stride: 2, random: &random))
        try network.add("pool", GlobalAveragePool())
        try network.add("dense", Dense(inputFeatures: 12, outputFeatures: 5, weights: random.floats(60, in: -1...1), bias: random.floats(5, in: -1...1)))
        return network
    }

    static func examples(_ count: Int, random: inout SeededGenerator) -> Tensor {
        Tensor(shape: [count, 10, 10, 8], scalars: random.floats(count * 800, in: -1...2))
    }

    /// The layers whose output is written as codes: those whose readers are all calibrated int8 layers.
    static func codeWriters(_ network: Network) -> [String] {
        network.nodes.filter { node in
            switch node.layer {
            case let layer as Int8Linear: layer.outputRange != nil
            case let layer as Int8Conv2D: layer.product.outputRange != nil
            case let layer as ProjectionAdd: if case .int8(let linear) = layer.projection { linear.outputRange != nil } else { false }
            case let layer as ExpandedDepthwise: layer.outputRange != nil
            case let layer as DepthwiseConv2D: layer.outputRange != nil
            default: false
            }
        }.map(\.name)
    }

    /// Codes carry exactly what the reader would have quantized: without a residual (which codes round), the outputs are
    /// bit for bit those of the calibrated network passing floats.
    @Test func codesBetweenLayersGiveTheOutputsOfFloatsBetweenThem() throws {
        var random = SeededGenerator(seed: 21)
        let network = try Self.network(residual: false, random: &random)
        let calibration = Self.examples(4, random: &random), inputs = Self.examples(3, random: &random)
        let floats = try network.optimized().int8Quantized(calibratedOn: calibration).fusingResiduals()
        let codes = floats.exchangingCodes()
        // The max pooling (passing the stem's codes on to the reduction), the reduction, the window and the projection read
        // codes; the downsampling's reader (average pooling) does not.
        #expect(Self.codeWriters(codes) == ["stem.relu", "reduce.relu", "window.relu", "projection"])
        #expect(Self.codeWriters(floats).isEmpty)
        #expect(try codes.run(inputs).scalars == (try floats.run(inputs).scalars))
    }

    /// Where the cores share a pass's layers (same-size slots), an activation of codes, which fills a quarter of its slot,
    /// and one of as many floats take slots of their own: the cores' shares of the slot's lines would differ.
    @Test func codesAndFloatsOfOneSizeTakeSeparateSameSizeSlots() throws {
        var random = SeededGenerator(seed: 25)
        var network = Network(inputShape: [10, 10, 8])
        try network.add("stem", Self.conv(8, 16, kernel: 3, random: &random))
        try network.add("stem.relu", ActivationLayer(.relu))
        try network.add("reduce", Self.conv(16, 8, kernel: 1, random: &random))
        try network.add("expand", Self.conv(8, 16, kernel: 1, random: &random))
        try network.add("pool", GlobalAveragePool())
        let codes = try network.optimized().int8Quantized(calibratedOn: Self.examples(4, random: &random)).exchangingCodes()
        #expect(Self.codeWriters(codes) == ["stem.relu", "reduce"])  // "expand", read by the pooling, writes floats
        func slot(_ plan: ActivationPlan, _ name: String) -> Int? { plan.buffers.first { $0.name == name }?.slot }
        let alone = codes.activationPlan(), shared = codes.activationPlan(sameSizeSlots: true)
        #expect(slot(alone, "expand") == slot(alone, "stem.relu"), "\(alone.buffers)")
        #expect(slot(shared, "expand") != slot(shared, "stem.relu") && shared.isConsistent, "\(shared.buffers)")
    }

    /// A pass holds as many examples as keep its largest activation within the budget (1 MB for these few weights), an
    /// activation written as codes counting a byte a value: passing floats, the stem's 10×10×16 (6.4 KB) is the largest;
    /// passing codes, the input's 10×10×8 floats (3.2 KB) are.
    @Test func activationsWrittenAsCodesCountAByteAValueInAPass() throws {
        var random = SeededGenerator(seed: 24)
        let network = try Self.network(residual: true, random: &random)
        let floats = try network.optimized().int8Quantized(calibratedOn: Self.examples(4, random: &random)).fusingResiduals()
        #expect(floats.examplesPerPass(threads: 1) == (1 << 20) / 6_400)
        #expect(floats.exchangingCodes().examplesPerPass(threads: 1) == (1 << 20) / 3_200)
    }

    /// With a residual read as codes, the sum differs from the float one by the residual's rounding only.
    @Test func aResidualReadAsCodesAddsItsRoundedValues() throws {
        var random = SeededGenerator(seed: 22)
        let network = try Self.network(residual: true, random: &random)
        let calibration = Self.examples(4, random: &random), inputs = Self.examples(3, random: &random)
        let floats = try network.optimized().int8Quantized(calibratedOn: calibration).fusingResiduals()
        let codes = floats.exchangingCodes()
        #expect(Self.codeWriters(codes) == ["stem.relu", "reduce.relu", "window.relu", "add"])
        let ours = try codes.run(inputs).scalars, reference = try floats.run(inputs).scalars
        let error = TestSupport.maxAbsDifference(ours, reference), scale = reference.map(abs).max()!
        #expect(error > 0 && error <= 0.02 * scale, "max |codes − floats| \(error), output range \(scale)")
        #expect(try network.prepared(for: .int8, calibratedOn: calibration).run(inputs).scalars == ours)
    }

    /// A requested activation written as codes comes back as floats: the values of its codes, which are the floats the
    /// layer would have written quantized with its output range (the documented rounding and clamp).
    @Test func aRequestedActivationWrittenAsCodesIsReturnedAsFloats() throws {
        var random = SeededGenerator(seed: 23)
        let network = try Self.network(residual: true, random: &random)
        let calibration = Self.examples(2, random: &random), inputs = Self.examples(2, random: &random)
        let prepared = try network.prepared(for: .int8, calibratedOn: calibration)
        let coded = try prepared.run(inputs, outputs: ["window.relu"])["window.relu"]!
        let floats = try network.optimized().int8Quantized(calibratedOn: calibration).run(inputs, outputs: ["window.relu"])["window.relu"]!
        #expect(coded.codes == nil && coded.shape == floats.shape)
        let range = try #require(prepared.nodes.first { $0.name == "window.relu" }.flatMap { ($0.layer as? Int8Conv2D)?.product.outputRange })
        let (codes, scale, zero) = referenceInputCodes(floats.scalars, range: range)
        let expected = codes.map { scale * Float($0 - zero) }
        #expect(TestSupport.maxAbsDifference(coded.scalars, expected) <= 1e-6 * range.upperBound)
        #expect(coded.scalars != floats.scalars)
    }

    /// A bottleneck whose shortcut is a 1×1 convolution (ResNet's first block of a stage): the shortcut's output, read only
    /// as the residual of the fused projection, is written as codes of the range the addition's input was calibrated on.
    @Test func aProjectedShortcutReadAsAResidualIsWrittenAsCodes() throws {
        var random = SeededGenerator(seed: 26)
        var network = Network(inputShape: [10, 10, 8])
        try network.add("stem", Self.conv(8, 16, kernel: 3, random: &random))
        try network.add("stem.relu", ActivationLayer(.relu))
        try network.add("reduce", Self.conv(16, 8, kernel: 1, random: &random))
        try network.add("reduce.relu", ActivationLayer(.relu))
        try network.add("window", Self.conv(8, 8, kernel: 3, random: &random))
        try network.add("window.relu", ActivationLayer(.relu))
        try network.add("projection", Self.conv(8, 24, kernel: 1, random: &random))
        try network.add("shortcut", Self.conv(16, 24, kernel: 1, random: &random), inputs: ["stem.relu"])
        try network.add("add", Add(activation: .relu), inputs: ["projection", "shortcut"])
        try network.add("pool", GlobalAveragePool())
        try network.add("dense", Dense(inputFeatures: 24, outputFeatures: 5, weights: random.floats(120, in: -1...1), bias: random.floats(5, in: -1...1)))
        let calibration = Self.examples(4, random: &random), inputs = Self.examples(3, random: &random)
        let prepared = try network.prepared(for: .int8, calibratedOn: calibration)
        #expect(Self.codeWriters(prepared) == ["stem.relu", "reduce.relu", "window.relu", "shortcut"])
        let shortcut = try network.optimized().run(calibration, outputs: ["shortcut"])["shortcut"]!.scalars
        let written = try #require(prepared.nodes.first { $0.name == "shortcut" }.flatMap { ($0.layer as? Int8Linear)?.outputRange })
        #expect(written == min(0, shortcut.min()!)...max(0, shortcut.max()!), "the shortcut's own range over the calibration examples")
        let ours = try prepared.run(inputs).scalars
        let reference = try network.optimized().int8Quantized(calibratedOn: calibration).run(inputs).scalars
        let error = TestSupport.maxAbsDifference(ours, reference), scale = reference.map(abs).max()!
        #expect(error > 0 && error <= 0.02 * scale, "max |codes − floats| \(error), output range \(scale)")
    }

    /// MobileNetV2's inverted residual blocks: a stem, an expansion and its depthwise convolution, a projection added to
    /// the block's input; then a block with a stride-2 depthwise convolution and no residual.
    static func invertedResiduals(random: inout SeededGenerator) throws -> Network {
        func depthwise(_ channels: Int, stride: Int) -> DepthwiseConv2D {
            DepthwiseConv2D(channels: channels, kernel: (3, 3), stride: (stride, stride), padding: .same,
                            weights: random.floats(9 * channels, in: -0.6...0.6), bias: random.floats(channels, in: -0.5...0.5))
        }
        var network = Network(inputShape: [10, 10, 8])
        try network.add("stem", conv(8, 16, kernel: 3, random: &random))
        try network.add("stem.relu6", ActivationLayer(.relu6))
        try network.add("expand", conv(16, 40, kernel: 1, random: &random))
        try network.add("expand.relu6", ActivationLayer(.relu6))
        try network.add("depthwise", depthwise(40, stride: 1))
        try network.add("depthwise.relu6", ActivationLayer(.relu6))
        try network.add("project", conv(40, 16, kernel: 1, random: &random))
        try network.add("add", Add(), inputs: ["project", "stem.relu6"])
        try network.add("expand_2", conv(16, 72, kernel: 1, random: &random))
        try network.add("expand_2.relu6", ActivationLayer(.relu6))
        try network.add("depthwise_2", depthwise(72, stride: 2))
        try network.add("depthwise_2.relu6", ActivationLayer(.relu6))
        try network.add("project_2", conv(72, 12, kernel: 1, random: &random))
        try network.add("pool", GlobalAveragePool())
        try network.add("dense", Dense(inputFeatures: 12, outputFeatures: 5, weights: random.floats(60, in: -1...1), bias: random.floats(5, in: -1...1)))
        return network
    }

    /// A calibrated expansion and its depthwise convolution run as one int8 layer that reads the block input's codes and
    /// writes codes for the projection: every int8 layer of the blocks passes bytes, and the outputs stay those of the
    /// calibrated network passing floats between unfused layers within quantization error (the codes' rounding).
    @Test func invertedResidualBlocksPassCodesThroughTheirExpandedDepthwiseConvolutions() throws {
        var random = SeededGenerator(seed: 25)
        let network = try Self.invertedResiduals(random: &random)
        let calibration = Self.examples(4, random: &random), inputs = Self.examples(3, random: &random)
        let prepared = try network.prepared(for: .int8, calibratedOn: calibration)
        #expect(prepared.nodes.filter { $0.layer is ExpandedDepthwise }.map(\.name) == ["depthwise.relu6", "depthwise_2.relu6"])
        #expect(Self.codeWriters(prepared) == ["stem.relu6", "depthwise.relu6", "add", "depthwise_2.relu6"])
        let floats = try network.optimized().int8Quantized(calibratedOn: calibration)
        let names = ["add", "dense"]
        let ours = try prepared.run(inputs, outputs: names), reference = try floats.run(inputs, outputs: names)
        for name in names {
            let error = TestSupport.maxAbsDifference(ours[name]!.scalars, reference[name]!.scalars)
            let scale = reference[name]!.scalars.map(abs).max()!
            #expect(error > 0 && error <= 0.02 * scale, "\(name): max |codes − floats| \(error), range \(scale)")
        }
    }

    /// MobileNetV2's first block: a float depthwise convolution after a three-channel stem (which stays float32), read only
    /// by a calibrated int8 projection, writes the codes the projection would have quantized its floats into, so the
    /// outputs are bit for bit those of the network passing floats, at every level this processor runs: 72-pixel rows at
    /// stride 1 (AVX-512 stores codes from the padded bands' registers) with 20 channels (a partial block), 20-pixel rows at
    /// stride 2 and 12-pixel ones at stride 1 (a row of floats, then its codes).
    @Test(arguments: [(width: 72, stride: 1, channels: 20), (width: 20, stride: 2, channels: 24), (width: 12, stride: 1, channels: 16)])
    func aDepthwiseConvolutionReadByAnInt8ProjectionWritesItsCodes(width: Int, stride: Int, channels: Int) throws {
        var random = SeededGenerator(seed: UInt64(width))
        var network = Network(inputShape: [5, width, 3])
        try network.add("stem", Self.conv(3, channels, kernel: 3, random: &random))
        try network.add("stem.relu6", ActivationLayer(.relu6))
        try network.add("depthwise", DepthwiseConv2D(channels: channels, kernel: (3, 3), stride: (stride, stride), padding: .same,
                                                     weights: random.floats(9 * channels, in: -0.6...0.6),
                                                     bias: random.floats(channels, in: -0.5...0.5)))
        try network.add("depthwise.relu6", ActivationLayer(.relu6))
        try network.add("project", Self.conv(channels, 8, kernel: 1, random: &random))
        try network.add("pool", GlobalAveragePool())
        func examples(_ count: Int) -> Tensor {
            Tensor(shape: [count, 5, width, 3], scalars: random.floats(count * 15 * width, in: -1...2))
        }
        let calibration = examples(4), inputs = examples(3)
        let prepared = try network.prepared(for: .int8, calibratedOn: calibration)
        #expect(Self.codeWriters(prepared) == ["depthwise.relu6"])
        let floats = try network.optimized().int8Quantized(calibratedOn: calibration)
        #expect(Self.codeWriters(floats).isEmpty)
        for level in 0...3 {
            let ours = try CPU.withLevel(level) { try prepared.run(inputs, outputs: ["project", "depthwise.relu6"]) }
            let reference = try CPU.withLevel(level) { try floats.run(inputs, outputs: ["project", "depthwise.relu6"]) }
            expectSameBits(ours["project"]!.scalars, reference["project"]!.scalars, "level \(level)")
            #expect(ours["depthwise.relu6"]!.scalars != reference["depthwise.relu6"]!.scalars, "level \(level): returned as codes' values")
        }
    }

    /// Each int8 SIMD body reads and writes the portable body's codes bit for bit (the residual read as codes, codes
    /// written by the kernel's store; 8- and 12-channel outputs leave partial vectors; `width` 8 for the AMX body, whose
    /// products read 64 codes or more a row).
    func simdBodyAgreesBitForBitWithThePortableBody(_ body: SIMDBody, width: Int = 1) throws {
        var random = SeededGenerator(seed: 24)
        let network = try Self.network(residual: true, width: width, random: &random)
        let calibration = Self.examples(2, random: &random), inputs = Self.examples(3, random: &random)
        let prepared = try network.prepared(for: .int8, calibratedOn: calibration)
        let names = ["stem.relu", "reduce.relu", "window.relu", "add", "dense"]
        let simd = try CPU.withLevel(body.level) { try prepared.run(inputs, outputs: names) }
        let portable = try withPortableKernels { try prepared.run(inputs, outputs: names) }
        for name in names { expectSameBits(simd[name]!.scalars, portable[name]!.scalars, "\(body.name) \(name)") }
    }

    @Test(.enabled(if: SIMDBody.int8Tiles.present, SIMDBody.int8Tiles.absence))
    func amxBodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.int8Tiles, width: 8) }

    @Test(.enabled(if: SIMDBody.int8Wide.present, SIMDBody.int8Wide.absence))
    func avx512VNNIBodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.int8Wide) }

    @Test(.enabled(if: SIMDBody.int8Narrow.present, SIMDBody.int8Narrow.absence))
    func avxVNNIBodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.int8Narrow) }

    @Test(.enabled(if: Int8LinearTests.int8AVX2Runs, Int8LinearTests.int8AVX2Absence))
    func avx2BodyAgreesBitForBitWithThePortableBody() throws { try simdBodyAgreesBitForBitWithThePortableBody(.avx2) }
}
