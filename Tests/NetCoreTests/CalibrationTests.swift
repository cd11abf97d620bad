import Base
import NetCore
import TestSupport
import Testing

/// Static int8 quantization: each int8 layer's input range measured on calibration examples, then every input quantized
/// with it (``Network/int8Quantized(calibratedOn:)``).
@Suite struct CalibrationTests {
    /// A range narrower than the inputs' (−1…3, 0…20), so that values are clamped, and one wider.
    static let ranges: [ClosedRange<Float>] = [-0.5...6, -4...30]

    /// Rows with every tail of the chunked product (k not a multiple of 4; more rows than a chunk and a share), each row
    /// quantized with the one calibrated range.
    @Test(arguments: [(rows: 13, k: 37, n: 45), (rows: 1500, k: 64, n: 40), (rows: 2000, k: 10, n: 7)], ranges)
    func aCalibratedProductQuantizesEveryRowWithTheFixedRange(shape: (rows: Int, k: Int, n: Int), range: ClosedRange<Float>) {
        let (rows, k, n) = shape
        var random = SeededGenerator(seed: UInt64(rows + k + n))
        let x = random.floats(rows * k / 2, in: -1...3) + random.floats(rows * k - rows * k / 2, in: 0...20)
        let w = random.floats(k * n, in: -0.5...0.5), bias = random.floats(n, in: -1...1)
        let layer = Int8Linear(inputFeatures: k, outputFeatures: n, weights: w, bias: bias, activation: .identity).quantizing(inputsIn: range)
        #expect(layer.inputRange == range)
        let ours = layer.forward([Tensor(shape: [rows, k], scalars: x)]).scalars
        let reference = referenceInt8Product(x, rows: rows, k: k, w, n: n, bias: bias, range: range)
        let error = TestSupport.maxAbsDifference(ours, reference) / max(1, reference.map(abs).max()!)
        #expect(error <= 1e-5, "\(shape) in \(range): relative error \(error)")
    }

    @Test(arguments: Int8Conv2DTests.cases, ranges)
    func aCalibratedConvolutionQuantizesEveryImageWithTheFixedRange(_ c: Int8Conv2DTests.Case, range: ClosedRange<Float>) throws {
        var random = SeededGenerator(seed: UInt64(c.height * 10 + c.outputs))
        let input = Int8Conv2DTests.input(c, random: &random), conv = Int8Conv2DTests.convolution(c, random: &random)
        let int8 = try #require(Int8Conv2D(conv)).quantizing(inputsIn: range)
        let ours = int8.forward([input]).scalars, reference = Int8Conv2DTests.reference(c, input: input, conv: conv, range: range)
        let error = TestSupport.maxAbsDifference(ours, reference) / max(1, reference.map(abs).max()!)
        #expect(error <= 1e-5, "\(c.testDescription) in \(range): relative error \(error)")
    }

    /// A network with an int8 convolution with a window, a 1×1 one and a dense layer, its ReLU folded.
    static func network(random: inout SeededGenerator) throws -> Network {
        var network = Network(inputShape: [9, 9, 8])
        try network.add("conv", Conv2D(inputChannels: 8, outputChannels: 8, kernel: (3, 3), padding: .same,
                                       weights: random.floats(3 * 3 * 8 * 8, in: -0.5...0.5), bias: random.floats(8, in: -1...1)))
        try network.add("relu", ActivationLayer(.relu))
        try network.add("pointwise", Conv2D(inputChannels: 8, outputChannels: 6, kernel: (1, 1), weights: random.floats(8 * 6, in: -0.5...0.5),
                                            bias: random.floats(6, in: -1...1)))
        try network.add("pool", GlobalAveragePool())
        try network.add("dense", Dense(inputFeatures: 6, outputFeatures: 3, weights: random.floats(18, in: -1...1), bias: random.floats(3, in: -1...1)))
        return network.optimized()
    }

    /// Each int8 layer's range is the range of its input over every calibration example, run in float32 — measured here
    /// on the float network's requested activations of the whole batch at once.
    @Test func calibrationFixesEachInt8LayersRangeToItsInputsRangeOverTheExamples() throws {
        var random = SeededGenerator(seed: 3)
        let float = try Self.network(random: &random)
        // Examples of different ranges: the second's values 5 times the first's.
        let first = random.floats(9 * 9 * 8, in: -1...2)
        let examples = Tensor(shape: [3, 9, 9, 8], scalars: first + first.map { 5 * $0 } + random.floats(9 * 9 * 8, in: 0...1))
        let calibrated = try float.int8Quantized(calibratedOn: examples)
        // The ReLU folded into the convolution: that node is named "relu".
        let inputs = ["relu": "input", "pointwise": "relu", "dense": "pool"]
        let activations = try float.run(examples, outputs: Array(Set(inputs.values)))
        for (node, source) in inputs {
            let layer = try #require(calibrated.nodes.first { $0.name == node }?.layer)
            let range = (layer as? Int8Linear)?.inputRange ?? (layer as? Int8Conv2D)?.product.inputRange
            #expect(range != nil, "\(node) (\(layer.typeName)) is calibrated")
            let values = activations[source]!.scalars
            #expect(range == min(0, values.min()!)...max(0, values.max()!), "\(node) (\(layer.typeName)) reads \(source)")
        }
        // The calibrated network runs within quantization error of float32 on its examples.
        let output = try calibrated.run(examples).scalars, reference = try float.run(examples).scalars
        let error = TestSupport.maxAbsDifference(output, reference), scale = reference.map(abs).max()!
        #expect(error <= 0.03 * scale && error > 0, "max |calibrated int8 − float| \(error), output range \(scale)")
    }

    /// Quantized with its calibrated range, an example no longer depends on the others of the batch, nor on its own range:
    /// an example scaled down by 4 gives a different output from its dynamic quantization (finer codes) but the one it
    /// gives alone.
    @Test func aCalibratedNetworkQuantizesEveryExampleTheSameWay() throws {
        var random = SeededGenerator(seed: 4)
        let float = try Self.network(random: &random)
        let wide = random.floats(9 * 9 * 8, in: -1...2), calibration = Tensor(shape: [1, 9, 9, 8], scalars: wide)
        let calibrated = try float.int8Quantized(calibratedOn: calibration), dynamic = float.int8Quantized()
        let narrow = Tensor(shape: [1, 9, 9, 8], scalars: wide.map { $0 / 4 })
        let both = try calibrated.run(Tensor(shape: [2, 9, 9, 8], scalars: wide + narrow.scalars)).scalars
        #expect(Array(both[3...]) == (try calibrated.run(narrow).scalars))
        #expect(try calibrated.run(narrow).scalars != (try dynamic.run(narrow).scalars))
    }
    /// Few rows (under 64 a core: one image's 7×7 layers) share the product's 32-column panels over the cores instead
    /// of its rows: on three cores, 20 rows times 100 columns (four panels, the last partial) give the one-core output
    /// bit for bit — with swish after the product, and with a residual added in its store (``ProjectionAdd``).
    @Test func aProductOfFewRowsSharedByColumnsGivesTheOneCoreOutput() throws {
        var random = SeededGenerator(seed: 12)
        let swish = try #require(Int8Linear(random.pointwise(40, 100, .swish))).quantizing(inputsIn: -3...3)
        let linear = try #require(Int8Linear(random.pointwise(40, 100))).quantizing(inputsIn: -3...3)
        let projection = try #require(ProjectionAdd(linear, then: Add(activation: .relu6)))
        let input = Tensor(shape: [1, 4, 5, 40], scalars: random.floats(800, in: -3...3))
        let residual = Tensor(shape: [1, 4, 5, 100], scalars: random.floats(2000, in: -4...4))
        func outputs(threads: Int) -> [[Float]] {
            Parallel.setThreadCount(threads)
            defer { Parallel.setThreadCount(nil) }
            return [swish.forward([input]).scalars, projection.forward([input, residual]).scalars]
        }
        let (shared, alone) = (outputs(threads: 3), outputs(threads: 1))
        #expect(shared == alone)
        #expect(alone[1].contains(6) && alone[1].contains(0) && Set(alone[0]).count > 1000, "the values vary and the clamp ran")
    }
}
