import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// YAMNet's last four blocks and classifier fine-tuned: loss and every parameter's gradient against PyTorch autograd on
/// the same weights (Tests/Reference/make_gradient_fixtures.py `yamnet`: yamnet.py's layer table in PyTorch with the
/// official TFLite model's weights), from the log-mel patches of a real recording.
@Suite struct YAMNetGradientTests {
    @Test func lastFourBlocksLossAndEveryParameterGradientEqualAutograd() throws {
        guard let fixture = TestSupport.generatedFixture("gradients/yamnet-last4.npz") else { return }
        let arrays = try NPZ.read(path: fixture)
        let bytes = try TestSupport.requireWeights("YAMNet", Result {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: try WeightStore.fromEnvironment().locate(YAMNet.tfliteFile))))
        })
        let yamnet = try YAMNet.network(weights: YAMNet.stateDict(tflite: TFLiteModel(bytes: bytes)), unused: YAMNet.unusedTFLiteScopes)
        let network = try FineTunableNetwork(try yamnet.truncated(at: "logits"), trainableFrom: "layer11/depthwise_conv")
        #expect(network.boundary == ["layer10/pointwise_conv/relu"])
        let layer10 = try #require(arrays["layer10"]).tensor
        let values = network.forward(from: ["layer10/pointwise_conv/relu": layer10])
        let labels = try #require(arrays["labels"]).floats.map { Int($0) }
        let (loss, logitGradient) = SoftmaxCrossEntropy.loss(logits: values["logits"]!, labels: labels)
        let reference = try #require(arrays["loss"]).floats[0]
        #expect(abs(loss - reference) <= 1e-5 * abs(reference), "loss \(loss), autograd's \(reference)")

        let gradients = network.backward(values, outputGradient: logitGradient)
        let names = network.trainable.filter { !($0.layer as! any Backpropagating).learnables.isEmpty }
            .flatMap { ["\($0.name).weight", "\($0.name).bias"] }
        #expect(names.count == gradients.count && names.count == 2 * 8 + 2, "\(gradients.count) gradients for \(names)")
        for (name, gradient) in zip(names, gradients) {
            let torch = try #require(arrays["d.\(name)"], "no d.\(name)").floats
            let error = TestSupport.maxAbsDifference(gradient, torch) / max(torch.map(abs).max() ?? 0, 1e-12)
            #expect(error <= 1e-4, "\(name): relative error \(error)")
        }
    }
}
