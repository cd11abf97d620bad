import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// A whole network's backward pass against PyTorch autograd (Tests/Reference/make_gradient_fixtures.py `resnet18`):
/// torchvision's ResNet-18 with seeded random weights and BatchNorm statistics, read from its .pth through the importer,
/// its last stage (`layer4`) and classifier trainable, BatchNorm frozen (eval mode).
@Suite struct NetworkGradientTests {
    /// torch's name of each learnable array of the trainable layers, in ``FineTunableNetwork/learnables`` order, and
    /// how to bring torch's layout to AudioNet's (OIHW → HWIO, `[out, in]` → `[in, out]`).
    static func torchNames(of network: FineTunableNetwork) -> [(name: String, layout: (NPYArray) throws -> [Float])] {
        network.trainable.flatMap { node -> [(String, (NPYArray) throws -> [Float])] in
            switch node.layer {
            case is Conv2D: return [("\(node.name).weight", { Tensor(shape: $0.shape, scalars: $0.floats).permuted([2, 3, 1, 0]).scalars })]
            case is Dense: return [("\(node.name).weight", { Tensor(shape: $0.shape, scalars: $0.floats).permuted([1, 0]).scalars }),
                                   ("\(node.name).bias", { $0.floats })]
            case is BatchNorm: return [("\(node.name).weight", { $0.floats }), ("\(node.name).bias", { $0.floats })]
            default: return []
            }
        }
    }

    /// The frozen part (stem to layer3, folded, as inference runs it) gives torch's layer3 activation; from that
    /// activation, the trainable part's loss and gradients are autograd's. (A gradient behind a ReLU jumps where a value
    /// crosses zero, so the trainable part starts from torch's activation rather than the frozen part's, which differs
    /// in the last bits.)
    @Test func resNet18LastStageLossAndEveryParameterGradientEqualAutograd() throws {
        guard let weights = TestSupport.generatedFixture("gradients/resnet18-random.pth"),
              let expected = TestSupport.generatedFixture("gradients/resnet18-layer4.npz") else { return }
        let arrays = try NPZ.read(path: expected)
        let network = try FineTunableNetwork(try ResNet.network(.resnet18, weights: PyTorchStateDict(path: weights).tensors),
                                             trainableFrom: "layer4.0.conv1")
        #expect(network.boundary == ["layer3.1.relu"])
        let x = try #require(arrays["x"]).tensor, stage3 = try #require(arrays["layer3"]).tensor
        let frozen = try #require(try network.frozenActivations(x)["layer3.1.relu"])
        let frozenError = TestSupport.maxAbsDifference(frozen.scalars, stage3.scalars) / (stage3.scalars.map(abs).max() ?? 1)
        #expect(frozen.shape == stage3.shape && frozenError <= 1e-4, "frozen part: relative error \(frozenError)")

        let labels = try #require(arrays["labels"]).floats.map { Int($0) }
        let values = network.forward(from: ["layer3.1.relu": stage3])
        let (loss, logitGradient) = SoftmaxCrossEntropy.loss(logits: values[network.outputName]!, labels: labels)
        let reference = try #require(arrays["loss"]).floats[0]
        #expect(abs(loss - reference) <= 1e-5 * abs(reference), "loss \(loss), autograd's \(reference)")

        let gradients = network.backward(values, outputGradient: logitGradient)
        let names = Self.torchNames(of: network)
        #expect(names.count == gradients.count && names.count == 5 + 2 * 5 + 2, "\(gradients.count) gradients for \(names.count) names")
        #expect(Set(names.map(\.name)) == Set(arrays.keys.filter { $0.hasPrefix("d.") }.map { String($0.dropFirst(2)) }))
        for ((name, layout), gradient) in zip(names, gradients) {
            let torch = try layout(try #require(arrays["d.\(name)"]))
            let error = TestSupport.maxAbsDifference(gradient, torch) / max(torch.map(abs).max() ?? 0, 1e-12)
            #expect(error <= 1e-4, "\(name): relative error \(error)")
        }
    }
}
