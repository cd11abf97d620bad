import Foundation
import Formats
import NetCore
import TestSupport
import Testing

/// Networks of every layer the ONNX exporter writes, with seeded weights: the exported file passes onnx.checker's
/// full check and ONNX Runtime agrees with the engine on it; read back, it runs as the network did.
@Suite struct ONNXExportTests {
    /// Small networks that together use every layer type and option the exporter handles.
    static let networks: [String: @Sendable () throws -> Network] = [
        "convolutions": convolutions, "pooling": pooling, "merges": merges, "shapes": shapes, "upsampling": upsampling,
        "residuals": residuals, "windows": windows, "tall-kernel": tallKernel,
    ]

    static func convolutions() throws -> Network {
        var random = SeededGenerator(seed: 1)
        var net = Network(inputShape: [9, 11, 4])
        try net.add("c1", Conv2D(inputChannels: 4, outputChannels: 6, kernel: (3, 3), stride: (2, 2), padding: .same,
                                 weights: random.floats(216, in: -0.5...0.5), bias: random.floats(6, in: -0.1...0.1), activation: .relu6))
        try net.add("c2", Conv2D(inputChannels: 6, outputChannels: 6, kernel: (3, 2), dilation: (2, 1), groups: 2,
                                 padding: .explicit(top: 1, bottom: 2, left: 0, right: 1), weights: random.floats(108, in: -0.5...0.5),
                                 activation: .hardSwish))
        try net.add("d1", DepthwiseConv2D(channels: 6, multiplier: 2, kernel: (3, 3), padding: .same, weights: random.floats(108, in: -0.5...0.5),
                                          bias: random.floats(12, in: -0.1...0.1), activation: .swish))
        try net.add("bn", BatchNorm(gamma: random.floats(12, in: 0.5...1.5), beta: random.floats(12, in: -0.2...0.2),
                                    mean: random.floats(12, in: -0.2...0.2), variance: random.floats(12, in: 0.5...1.5), epsilon: 1e-3))
        try net.add("leaky", ActivationLayer(.leakyReLU(alpha: 0.1)))
        try net.add("c3", Conv2D(inputChannels: 12, outputChannels: 5, kernel: (1, 1), weights: random.floats(60, in: -0.5...0.5),
                                 bias: random.floats(5, in: -0.1...0.1), activation: .clip(low: -1, high: 2)))
        return net
    }

    /// Ungrouped convolutions with windows, which `--precision int8` runs as ``Int8Conv2D``: strided, dilated, unevenly
    /// padded, a 5×5 and a strided 1×1; then a 1×1 (``Int8Linear``).
    static func windows() throws -> Network {
        var random = SeededGenerator(seed: 7)
        func conv(_ inputs: Int, _ outputs: Int, _ kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                  padding: Padding, _ activation: Activation) -> Conv2D {
            Conv2D(inputChannels: inputs, outputChannels: outputs, kernel: kernel, stride: stride, dilation: dilation, padding: padding,
                   weights: random.floats(kernel.0 * kernel.1 * inputs * outputs, in: -0.3...0.3), bias: random.floats(outputs, in: -0.1...0.1),
                   activation: activation)
        }
        var net = Network(inputShape: [11, 10, 8])
        try net.add("c1", conv(8, 16, (3, 3), stride: (2, 2), padding: .same, .relu))
        try net.add("c2", conv(16, 12, (3, 2), dilation: (2, 1), padding: .explicit(top: 1, bottom: 2, left: 0, right: 1), .hardSwish))
        try net.add("c3", conv(12, 10, (5, 5), padding: .same, .relu6))
        try net.add("c4", conv(10, 14, (1, 1), stride: (2, 2), padding: .valid, .identity))
        try net.add("c5", conv(14, 6, (1, 1), padding: .valid, .relu))
        return net
    }

    static func pooling() throws -> Network {
        var random = SeededGenerator(seed: 2)
        var net = Network(inputShape: [13, 10, 6])
        try net.add("max", Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .same))
        try net.add("lrn", LocalResponseNorm(size: 5, alpha: 1e-2, beta: 0.75, k: 2))
        try net.add("average", Pool2D(.average, kernel: (2, 2), stride: (2, 2), padding: .symmetric(1, 1), ceilMode: true))
        try net.add("padded", Pool2D(.average, kernel: (3, 3), stride: (1, 1), padding: .symmetric(1, 1), countIncludesPadding: true))
        try net.add("tfAverage", Pool2D(.average, kernel: (2, 3), stride: (1, 2), padding: .same))
        try net.add("gap", GlobalAveragePool())
        try net.add("dense", Dense(inputFeatures: 6, outputFeatures: 7, weights: random.floats(42, in: -1...1), bias: random.floats(7, in: -0.5...0.5),
                                   activation: .tanh))
        try net.add("softmax", Softmax(logarithm: true))
        return net
    }

    static func merges() throws -> Network {
        var random = SeededGenerator(seed: 3)
        var net = Network(inputShape: [7, 8, 4])
        let conv = { (name: String, input: String, activation: Activation) throws -> Void in
            try net.add(name, Conv2D(inputChannels: 4, outputChannels: 4, kernel: (1, 1), weights: random.floats(16, in: -1...1),
                                     bias: random.floats(4, in: -0.2...0.2), activation: activation), inputs: [input])
        }
        try conv("a", "input", .identity)
        try conv("b", "input", .sigmoid)
        try net.add("sum", Add(activation: .relu), inputs: ["input", "a", "b"])
        try net.add("gap", GlobalAveragePool(), inputs: ["b"])
        try net.add("gate", Reshape([1, 1, 4]))
        try net.add("excite", Multiply(), inputs: ["sum", "gate"])
        try net.add("scaled", Multiply(), inputs: ["excite", "gap"])  // [7, 8, 4] · [4]: ranks differ
        try net.add("centred", Arithmetic(.subtract, constant: Tensor(shape: [4], scalars: random.floats(4, in: -1...1))))
        try net.add("ratio", Arithmetic(.divide, constant: Tensor(shape: [8, 1], scalars: random.floats(8, in: 1...2)), constantFirst: true))
        try net.add("joined", Concat(), inputs: ["ratio", "a"])
        try net.add("shuffled", ChannelShuffle(groups: 2))
        try net.add("half", ChannelSlice(2..<6))
        try net.add("pad", ZeroPad2D(top: 1, bottom: 0, left: 2, right: 1))
        try net.add("crop", ZeroPad2D(top: -1, bottom: 1, left: -2, right: 0))  // NASNet's shifted path: negative pads
        try net.add("drop", Dropout(rate: 0.5))
        try net.add("hard", ActivationLayer(.hardSigmoid(alpha: 0.2, beta: 0.5)))
        return net
    }

    /// An inverted residual block with squeeze-and-excitation (expansion, depthwise convolution, channel scaling,
    /// projection, Add) and a bottleneck's end (a scaling, 1×1 convolution, Add, ReLU): what AudioNet runs fused where
    /// the packed product has its body.
    static func residuals() throws -> Network {
        var random = SeededGenerator(seed: 6)
        func pointwise(_ inputs: Int, _ outputs: Int, _ activation: Activation = .identity) -> Conv2D {
            random.pointwise(inputs, outputs, activation, biasRange: -0.2...0.2)
        }
        var net = Network(inputShape: [6, 7, 8])
        func gate(_ name: String, of input: String, channels: Int) throws {
            try net.add(name + "_mean", GlobalAveragePool(), inputs: [input])
            try net.add(name + "_shape", Reshape([1, 1, channels]))
            try net.add(name, pointwise(channels, channels, .sigmoid))
        }
        try net.add("expand", pointwise(8, 24, .relu6))
        try net.add("depthwise", DepthwiseConv2D(channels: 24, kernel: (3, 3), padding: .same, weights: random.floats(216, in: -0.5...0.5),
                                                 bias: random.floats(24, in: -0.1...0.1), activation: .relu6))
        try gate("gate", of: "depthwise", channels: 24)
        try net.add("excite", Multiply(), inputs: ["depthwise", "gate"])
        try net.add("project", pointwise(24, 8))
        try net.add("block", Add(), inputs: ["input", "project"])
        try gate("gate2", of: "block", channels: 8)
        try net.add("excite2", Multiply(), inputs: ["block", "gate2"])
        try net.add("reduce", pointwise(8, 4, .relu))
        try net.add("conv3", pointwise(4, 8))
        try net.add("bottleneck", Add(activation: .relu), inputs: ["conv3", "block"])
        return net
    }

    static func shapes() throws -> Network {
        var random = SeededGenerator(seed: 4)
        var net = Network(inputShape: [6, 5])
        try net.add("sequence", Conv1D(inputChannels: 5, outputChannels: 3, width: 3, stride: 1, dilation: 2, padding: .same,
                                       weights: random.floats(45, in: -0.5...0.5), bias: random.floats(3, in: -0.1...0.1), activation: .relu))
        try net.add("rows", Dense(inputFeatures: 3, outputFeatures: 4, weights: random.floats(12, in: -1...1), bias: random.floats(4, in: -0.5...0.5)))
        try net.add("image", Reshape([6, 4, 1]))
        try net.add("conv", Conv2D(inputChannels: 1, outputChannels: 2, kernel: (3, 2), weights: random.floats(12, in: -1...1),
                                   bias: random.floats(2, in: -0.1...0.1)))
        try net.add("permute", Permute([2, 0, 1]))
        try net.add("flat", Flatten())
        try net.add("out", Dense(inputFeatures: 24, outputFeatures: 3, weights: random.floats(72, in: -1...1), bias: random.floats(3, in: -0.5...0.5),
                                 activation: .sigmoid))
        return net
    }

    /// CREPE's kind of layer: 64 taps over a width-1 image, run by FFT.
    static func tallKernel() throws -> Network {
        var random = SeededGenerator(seed: 6)
        var net = Network(inputShape: [64, 1, 16])
        try net.add("tall", Conv2D(inputChannels: 16, outputChannels: 32, kernel: (64, 1), padding: .same,
                                   weights: random.floats(64 * 16 * 32, in: -0.2...0.2), bias: random.floats(32, in: -0.1...0.1), activation: .relu))
        return net
    }

    static func upsampling() throws -> Network {
        var random = SeededGenerator(seed: 5)
        var net = Network(inputShape: [5, 6, 3])
        try net.add("nearest", Resize2D(height: 10, width: 12, mode: .nearest, coordinates: .asymmetric, rounding: .floor))
        try net.add("linear", Resize2D(height: 7, width: 9, mode: .linear, coordinates: .halfPixel))
        try net.add("up", ConvTranspose2D(inputChannels: 3, outputChannels: 2, kernel: (3, 3), stride: (2, 2), crop: (top: 1, left: 1, bottom: 0, right: 1),
                                          outputPadding: (1, 0), weights: random.floats(54, in: -0.5...0.5), bias: random.floats(2, in: -0.1...0.1)))
        return net
    }

    /// The engine input `[N, …]` in the file's layout (NCHW for images), and an output back from it.
    static func toFile(_ tensor: Tensor) -> Tensor { tensor.shape.count == 4 ? tensor.permuted([0, 3, 1, 2]) : tensor }
    static func fromFile(_ tensor: Tensor) -> Tensor { tensor.shape.count == 4 ? tensor.permuted([0, 2, 3, 1]) : tensor }

    static func input(for network: Network, batch: Int = 2) -> Tensor {
        var random = SeededGenerator(seed: 99)
        let shape = [batch] + network.inputShape
        return Tensor(shape: shape, scalars: random.floats(shape.reduce(1, *), in: -2...2))
    }

    /// The network written to a temporary `.onnx` file.
    static func exported(_ network: Network, name: String, opset: Int) throws -> String {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("\(name).onnx").path
        try Data(ONNXExport.serialized(network, name: name, opset: opset)).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: networks.keys.sorted(), [13, 17, 21])
    func onnxRuntimeAgreesWithTheEngineOnTheExportedFile(_ name: String, opset: Int) throws {
        let network = try Self.networks[name]!()
        let input = Self.input(for: network)
        let path = try Self.exported(network, name: name, opset: opset)
        guard let reference = try TestSupport.onnxRuntime(model: path, input: Self.toFile(input)) else { return }
        let ours = try network.run(input)
        let error = TestSupport.relativeError(ours, Self.fromFile(reference))
        #expect(error <= 1e-5, "\(name), opset \(opset): relative error \(error), shapes \(ours.shape) and \(reference.shape)")
    }

    /// Folded (BatchNorm and activations in the convolutions), as `audionet export` writes it.
    @Test(arguments: networks.keys.sorted())
    func theOptimizedGraphExportsToo(_ name: String) throws {
        let network = try Self.networks[name]!().optimized()
        let input = Self.input(for: network, batch: 1)
        guard let reference = try TestSupport.onnxRuntime(model: try Self.exported(network, name: name, opset: 17), input: Self.toFile(input)) else { return }
        let error = TestSupport.relativeError(try network.run(input), Self.fromFile(reference))
        #expect(error <= 1e-5, "\(name): relative error \(error)")
    }

    /// As AudioNet runs it (``Network/prepared(for:mergingFloat32ExpansionsFrom:)``: fused layers written back as their
    /// operators), as a trained model's export writes it. Every expansion is merged with its depthwise convolution, those
    /// too small for AudioNet to merge (``ExpandedDepthwise/fusedFloat32Bytes``) included, so the file writes the merged
    /// layer back.
    @Test(arguments: networks.keys.sorted())
    func thePreparedGraphExportsToo(_ name: String) throws {
        let network = try Self.networks[name]!().prepared(for: .float32, mergingFloat32ExpansionsFrom: 0)
        // Where the packed product has its body (the expansion is merged with its depthwise convolution then).
        if name == "residuals", network.nodes.contains(where: { $0.layer is ExpandedDepthwise }) {
            #expect(network.nodes.filter { $0.layer is ScaledProjection }.map(\.name) == ["block", "reduce"], "\(network.nodes.map(\.name))")
        }
        let input = Self.input(for: network, batch: 1)
        guard let reference = try TestSupport.onnxRuntime(model: try Self.exported(network, name: name, opset: 17), input: Self.toFile(input)) else { return }
        let error = TestSupport.relativeError(try network.run(input), Self.fromFile(reference))
        #expect(error <= 1e-5, "\(name): relative error \(error)")
    }

    /// The exported file read back by AudioNet's importer gives the network's own outputs.
    @Test(arguments: networks.keys.sorted())
    func anExportedFileImportedBackGivesTheSameOutputs(_ name: String) throws {
        let network = try Self.networks[name]!()
        let input = Self.input(for: network)
        let imported = try ONNXModel(path: try Self.exported(network, name: name, opset: 17)).network()
        let back = Self.fromFile(try imported.run(Self.toFile(input)))
        let error = TestSupport.relativeError(back, try network.run(input))
        #expect(error <= 1e-6, "\(name): relative error \(error)")
    }

    /// A prepared network's FFT convolution holds only its kernel spectra; exported, it writes the weights made again
    /// from them, and the file read back gives the network's outputs.
    @Test func aConvolutionKeepingOnlySpectraExportsItsWeights() throws {
        let network = try Self.tallKernel().prepared(for: .float32)
        #expect((network.nodes[0].layer as? Conv2D)?.keepsOnlySpectra == true)
        let input = Self.input(for: network)
        let imported = try ONNXModel(path: try Self.exported(network, name: "tall-kernel", opset: 17)).network()
        let error = TestSupport.relativeError(Self.fromFile(try imported.run(Self.toFile(input))), try network.run(input))
        #expect(error <= 1e-5, "relative error \(error)")
    }

    @Test func anOpsetOutsideTheRangeIsRefusedByName() throws {
        let network = try Self.shapes()
        #expect { try ONNXExport.serialized(network, name: "x", opset: 12) } throws: { "\($0)".contains("opset 12") && !"\($0)".contains("\n") }
    }

    /// `network` with each int8 layer replaced by its float32 form on the dequantized weights (codes × scales).
    static func dequantized(_ network: Network) throws -> Network {
        var result = Network(inputShape: network.inputShape, inputName: network.inputName)
        for node in network.nodes {
            var layer = node.layer
            if let linear = layer as? Int8Linear {
                let (codes, scales, outputs) = (linear.weightCodes, linear.weightScales, linear.outputFeatures)
                let weights = codes.indices.map { Float(codes[$0]) * scales[$0 % outputs] }
                layer = linear.sourceTypeName == "Conv2D"
                    ? Conv2D(inputChannels: linear.inputFeatures, outputChannels: outputs, kernel: (1, 1), weights: weights, bias: linear.bias,
                             activation: linear.activation)
                    : Dense(inputFeatures: linear.inputFeatures, outputFeatures: outputs, weights: weights, bias: linear.bias, activation: linear.activation)
            } else if let conv = layer as? Int8Conv2D {
                let (codes, scales, outputs) = (conv.product.weightCodes, conv.product.weightScales, conv.outputChannels)
                layer = Conv2D(inputChannels: conv.inputChannels, outputChannels: outputs, kernel: conv.kernel, stride: conv.stride,
                               dilation: conv.dilation, padding: conv.padding, weights: codes.indices.map { Float(codes[$0]) * scales[$0 % outputs] },
                               bias: conv.product.bias, activation: conv.product.activation)
            }
            try result.add(node.name, layer, inputs: node.inputs)
        }
        result.outputName = network.outputName
        return result
    }

    /// An int8 projection fused with its residual addition is written back as its QDQ convolution and an Add: ONNX Runtime
    /// computes on the file what the unfused engine computes on the dequantized weights.
    @Test func anInt8ProjectionAddExportsAsItsConvolutionAndAnAdd() throws {
        let prepared = try Self.residuals().prepared(for: .int8)
        #expect(prepared.nodes.contains { ($0.layer as? ProjectionAdd)?.typeName == "ProjectionAdd (int8)" })
        let input = Self.input(for: prepared)
        let path = try Self.exported(prepared, name: "residuals-int8-prepared", opset: 17)
        guard let asWritten = try TestSupport.onnxRuntime(model: path, input: Self.toFile(input), optimized: false) else { return }
        let unfused = try Self.dequantized(try Self.residuals().optimized().int8Quantized())
        #expect(TestSupport.relativeError(try unfused.run(input), Self.fromFile(asWritten)) <= 1e-5)
    }

    /// `--precision int8`: the file holds the int8 weights and their scales (QDQ), so ONNX Runtime computes what the
    /// engine computes on the dequantized weights; with its optimiser on, close to what the int8 engine computes.
    @Test(arguments: ["convolutions", "pooling", "shapes", "windows"], [13, 21])
    func anInt8NetworkExportsItsQuantizedWeights(_ name: String, opset: Int) throws {
        let quantized = try Self.networks[name]!().optimized().int8Quantized()
        #expect(quantized.nodes.contains { $0.layer is Int8Linear }, "\(name) has no int8 layer")
        if name == "windows" { #expect(quantized.nodes.filter { $0.layer is Int8Conv2D }.count == 4) }
        let input = Self.input(for: quantized)
        let path = try Self.exported(quantized, name: name + "-int8", opset: opset)
        guard let reference = try TestSupport.onnxRuntime(model: path, input: Self.toFile(input)) else { return }
        // The file's operators as written: the engine's float32 product on the dequantized weights.
        guard let asWritten = try TestSupport.onnxRuntime(model: path, input: Self.toFile(input), optimized: false) else { return }
        #expect(TestSupport.relativeError(try Self.dequantized(quantized).run(input), Self.fromFile(asWritten)) <= 1e-5, "\(name), opset \(opset)")
        // As users run it, ONNX Runtime fuses DequantizeLinear → MatMul into dynamically quantized integer products,
        // as the int8 engine computes them: the two agree within the activations' rounding.
        #expect(TestSupport.relativeError(try quantized.run(input), Self.fromFile(reference)) <= 3e-2, "\(name), opset \(opset)")
    }
}
