import Formats
import Foundation
import NetCore
import TestSupport
import Testing

/// Every layer's backward pass against PyTorch autograd (Tests/Reference/make_gradient_fixtures.py `layers`): input and
/// learnable gradients of `(output · dy).sum()` for random inputs, weights and `dy`, to 1e-4 of the largest magnitude.
@Suite struct BackwardPassTests {
    let arrays: [String: NPYArray]

    init() throws { arrays = try NPZ.read(path: TestSupport.fixture("gradients/layers.npz")) }

    func tensor(_ key: String) throws -> Tensor {
        let array = try #require(arrays[key], "no \(key) in layers.npz")
        return Tensor(shape: array.shape, scalars: try array.floats)
    }

    func values(_ key: String) throws -> [Float] { try tensor(key).scalars }

    /// Runs `layer` forward on the case's inputs and backward from its `dy`, and compares every gradient.
    func expectAutogradGradients(_ name: String, _ layer: any Backpropagating, inputs inputKeys: [String] = ["x"],
                                 learnables learnableKeys: [String] = []) throws {
        let inputs = try inputKeys.map { try tensor("\(name).\($0)") }
        let output = layer.forward(inputs)
        let dy = try tensor("\(name).dy")
        #expect(output.shape == dy.shape, "\(name): output \(output.shape), autograd's \(dy.shape)")
        let gradients = layer.backward(inputs: inputs, output: output, outputGradient: dy)
        let expected = try inputKeys.map { try values("\(name).d\($0)") } + learnableKeys.map { try values("\(name).d\($0)") }
        let ours = gradients.inputs.map(\.scalars) + gradients.learnables
        #expect(ours.count == expected.count, "\(name): \(ours.count) gradients for \(expected.count)")
        for (key, (mine, reference)) in zip(inputKeys + learnableKeys, zip(ours, expected)) {
            #expect(mine.count == reference.count, "\(name) d\(key): \(mine.count) values for \(reference.count)")
            let error = TestSupport.maxAbsDifference(mine, reference) / max(reference.map(abs).max() ?? 0, 1e-12)
            #expect(error <= 1e-4, "\(name) d\(key): relative error \(error)")
        }
    }

    func conv(_ name: String, kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1), groups: Int = 1,
              padding: Padding, biased: Bool = true) throws {
        let x = try tensor("\(name).x"), w = try values("\(name).w")
        let outputs = w.count / (kernel.0 * kernel.1 * x.shape[3] / groups)
        let layer = Conv2D(inputChannels: x.shape[3], outputChannels: outputs, kernel: kernel, stride: stride, dilation: dilation,
                           groups: groups, padding: padding, weights: w, bias: biased ? try values("\(name).b") : nil)
        try expectAutogradGradients(name, layer.planned(for: [Array(x.shape.dropFirst())]), learnables: biased ? ["w", "b"] : ["w"])
    }

    @Test func convolutionGradientsEqualAutogradForEveryPaddingStrideAndGroupCase() throws {
        try conv("conv3x3", kernel: (3, 3), padding: .symmetric(1, 1))
        try conv("conv3x3_stride2_same", kernel: (3, 3), stride: (2, 2), padding: .same)
        try conv("conv_grouped_dilated", kernel: (3, 3), dilation: (2, 2), groups: 2, padding: .explicit(top: 2, bottom: 1, left: 0, right: 2))
        try conv("conv7x7_stride2_unbiased", kernel: (7, 7), stride: (2, 2), padding: .symmetric(3, 3), biased: false)
        try conv("conv1x1", kernel: (1, 1), padding: .valid)
        try conv("conv3x1_stride2x1", kernel: (3, 1), stride: (2, 1), padding: .valid)
    }

    @Test func depthwiseGradientsEqualAutograd() throws {
        let strided = try tensor("depthwise_stride2_same.x")
        try expectAutogradGradients("depthwise_stride2_same",
                                    DepthwiseConv2D(channels: strided.shape[3], kernel: (3, 3), stride: (2, 2), padding: .same,
                                                    weights: try values("depthwise_stride2_same.w"), bias: try values("depthwise_stride2_same.b")),
                                    learnables: ["w", "b"])
        try expectAutogradGradients("depthwise_multiplier2",
                                    DepthwiseConv2D(channels: 3, multiplier: 2, kernel: (3, 3), padding: .symmetric(1, 1),
                                                    weights: try values("depthwise_multiplier2.w")),
                                    learnables: ["w"])
    }

    @Test func denseGradientsEqualAutograd() throws {
        try expectAutogradGradients("dense", Dense(inputFeatures: 10, outputFeatures: 7, weights: try values("dense.w"), bias: try values("dense.b")),
                                    learnables: ["w", "b"])
    }

    /// Running statistics frozen (eval mode); without γ only β learns.
    @Test func batchNormGradientsEqualAutogradWithFrozenStatistics() throws {
        for (name, scaled) in [("batchnorm", true), ("batchnorm_unscaled", false)] {
            let norm = BatchNorm(gamma: scaled ? try values("\(name).gamma") : nil, beta: try values("\(name).beta"),
                                 mean: try values("\(name).mean"), variance: try values("\(name).var"), epsilon: 1e-3)
            try expectAutogradGradients(name, norm, learnables: scaled ? ["gamma", "beta"] : ["beta"])
        }
    }

    /// Training mode: the output, the running statistics after the step (momentum 0.1) and the gradients through the
    /// batch's statistics, as `F.batch_norm(training=True)` gives them.
    @Test func batchNormInTrainingModeEqualsTorchWithBatchStatistics() throws {
        let name = "batchnorm_training"
        var norm = BatchNorm(gamma: try values("\(name).gamma"), beta: try values("\(name).beta"), mean: try values("\(name).mean"),
                             variance: try values("\(name).var"), epsilon: 1e-3)
        let x = try tensor("\(name).x")
        let output = norm.trainingForward(x, momentum: 0.1)
        let expected: [(String, [Float])] = [("y", output.scalars), ("running_mean", norm.mean), ("running_var", norm.variance)]
        for (key, ours) in expected {
            let reference = try values("\(name).\(key)")
            let error = TestSupport.maxAbsDifference(ours, reference) / max(reference.map(abs).max() ?? 0, 1e-12)
            #expect(error <= 1e-5, "\(key): relative error \(error)")
        }
        let gradients = norm.trainingBackward(input: x, outputGradient: try tensor("\(name).dy"))
        for (key, ours) in zip(["dx", "dgamma", "dbeta"], [gradients.inputs[0].scalars] + gradients.learnables) {
            let reference = try values("\(name).\(key)")
            let error = TestSupport.maxAbsDifference(ours, reference) / max(reference.map(abs).max() ?? 0, 1e-12)
            #expect(error <= 1e-4, "\(key): relative error \(error)")
        }
    }

    @Test(arguments: [("relu", Activation.relu), ("relu6", .relu6), ("leaky", .leakyReLU(alpha: 0.1)), ("sigmoid", .sigmoid),
                      ("tanh", .tanh), ("swish", .swish), ("hardswish", .hardSwish), ("hardsigmoid", .hardSigmoid(alpha: 1.0 / 6, beta: 0.5))])
    func activationGradientsEqualAutograd(name: String, activation: Activation) throws {
        try expectAutogradGradients(name, ActivationLayer(activation))
    }

    @Test func softmaxAndLogSoftmaxGradientsEqualAutograd() throws {
        try expectAutogradGradients("softmax", Softmax())
        try expectAutogradGradients("logsoftmax", Softmax(logarithm: true))
    }

    @Test func poolingGradientsEqualAutograd() throws {
        try expectAutogradGradients("maxpool3x3_stride2_pad1", Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1)))
        try expectAutogradGradients("maxpool2x2_ceil", Pool2D(.max, kernel: (2, 2), stride: (2, 2), ceilMode: true))
        try expectAutogradGradients("avgpool3x3_stride2_pad1",
                                    Pool2D(.average, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1), countIncludesPadding: true))
        try expectAutogradGradients("avgpool3x3_stride2_pad1_excluding",
                                    Pool2D(.average, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1), countIncludesPadding: false))
        try expectAutogradGradients("globalaverage", GlobalAveragePool())
    }

    @Test func sumConcatenationShuffleProductAndSliceGradientsEqualAutograd() throws {
        try expectAutogradGradients("add", Add(), inputs: ["x0", "x1"])
        try expectAutogradGradients("concat", Concat(), inputs: ["x0", "x1"])
        try expectAutogradGradients("shuffle", ChannelShuffle(groups: 3))
        try expectAutogradGradients("multiply", Multiply(), inputs: ["x0", "x1"])
        try expectAutogradGradients("slice", ChannelSlice(2..<5))
    }

    /// Padding and cropping (negative sides), and AlexNet's and GoogLeNet's local response normalization.
    @Test func paddingCroppingAndLocalResponseNormGradientsEqualAutograd() throws {
        try expectAutogradGradients("zeropad", ZeroPad2D(top: 1, bottom: 2, left: 0, right: 3))
        try expectAutogradGradients("zerocrop", ZeroPad2D(top: -1, bottom: 0, left: -2, right: 1))
        try expectAutogradGradients("lrn", LocalResponseNorm(size: 5, alpha: 0.5, beta: 0.75, k: 1))
    }

    /// A fused ReLU passes the gradient only where the output is positive, as a separate ReLU layer does.
    @Test func aConvolutionWithItsReLUFusedPassesTheSameGradientsAsTheTwoLayers() throws {
        let x = try tensor("conv3x3.x")
        let plain = Conv2D(inputChannels: 4, outputChannels: 5, kernel: (3, 3), padding: .symmetric(1, 1),
                           weights: try values("conv3x3.w"), bias: try values("conv3x3.b"))
        var fused = plain
        fused.activation = .relu
        let dy = try tensor("conv3x3.dy")
        let z = plain.forward([x]), y = fused.forward([x])
        let throughReLU = ActivationLayer(.relu).backward(inputs: [z], output: y, outputGradient: dy).inputs[0]
        let separate = plain.backward(inputs: [x], output: z, outputGradient: throughReLU)
        let together = fused.backward(inputs: [x], output: y, outputGradient: dy)
        #expect(together.inputs[0].scalars == separate.inputs[0].scalars)
        #expect(together.learnables == separate.learnables)
        #expect(together.inputs[0].scalars != plain.backward(inputs: [x], output: z, outputGradient: dy).inputs[0].scalars)
    }
}
