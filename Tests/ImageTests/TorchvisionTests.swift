import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

@Suite struct TorchvisionArchitectureTests {
    /// Each torchvision-layout network's builder from a state dict.
    static let builders: [String: @Sendable ([String: Tensor]) throws -> Network] = [
        "resnet18": { try ResNet.network(.resnet18, weights: $0) }, "resnet50": { try ResNet.network(.resnet50, weights: $0) },
        "resnet101": { try ResNet.network(.resnet101, weights: $0) }, "squeezenet": { try SqueezeNet.network(.v1_1, weights: $0) },
        "squeezenet1_0": { try SqueezeNet.network(.v1_0, weights: $0) },
        "googlenet-torchvision": { try GoogLeNetTorchvision.network(weights: $0) }, "alexnet-torchvision": { try VGG.alexNet(weights: $0) },
        "vgg16": { try VGG.network(.vgg16, weights: $0) }, "vgg19": { try VGG.network(.vgg19, weights: $0) },
        "densenet201": { try DenseNet201.network(weights: $0) }, "shufflenet-v2": { try ShuffleNetV2.network(weights: $0) },
        "efficientnetb0": { try EfficientNetB0.network(weights: $0) },
    ]

    /// Each catalog network, given torchvision's state_dict layout with closed-form weights, against
    /// torchvision itself on the same input: relative error ≤ 1e-4 and the same top-1.
    @Test(arguments: builders.keys.sorted()) func logitsMatchTorchvision(_ name: String) throws {
        let descriptor = try #require(Networks.named(name))
        let network = try Self.builders[name]!(try TestSupport.closedFormStateDict(layout: "torchvision/\(name).layout.txt")).optimized()
        let input = try NPY.read(path: TestSupport.fixture("torchvision/input\(descriptor.inputSize[0]).npy")).tensor
        let logits = try network.run(input).scalars
        let reference = try NPY.read(path: TestSupport.fixture("torchvision/\(name).logits.npy")).floats
        let scale = max(1, reference.map(abs).max()!)
        let error = TestSupport.maxAbsDifference(logits, reference) / scale
        #expect(error <= 1e-4, "\(name): relative error \(error)")
        #expect(logits.indices.max { logits[$0] < logits[$1] } == reference.indices.max { reference[$0] < reference[$1] })
    }

    /// Each of them exported to ONNX (as `audionet export` writes it: folded, opset 17) and run by ONNX Runtime
    /// gives the engine's logits within 1e-4 of the largest.
    @Test(arguments: builders.keys.sorted()) func onnxRuntimeRunsTheExportedNetworkAsTheEngineDoes(_ name: String) throws {
        let descriptor = try #require(Networks.named(name))
        let network = try Self.builders[name]!(try TestSupport.closedFormStateDict(layout: "torchvision/\(name).layout.txt")).optimized()
        let input = try NPY.read(path: TestSupport.fixture("torchvision/input\(descriptor.inputSize[0]).npy")).tensor
        let file = TestSupport.temporaryDirectory().appendingPathComponent("\(name).onnx")
        try Data(ONNXExport.serialized(network, name: name)).write(to: file)
        guard let reference = try TestSupport.onnxRuntime(model: file.path, input: input.permuted([0, 3, 1, 2])) else { return }
        let error = TestSupport.relativeError(try network.run(input), reference)
        #expect(error <= 1e-4, "\(name): relative error \(error)")
    }

    /// The registry lists each of them with torchvision's weight file and ImageNet labels.
    @Test func everyTorchvisionNetworkIsRegisteredWithItsWeightFile() throws {
        for name in Self.builders.keys {
            let descriptor = try #require(Networks.named(name), "\(name) is not in the registry")
            #expect(descriptor.files.first?.path.hasPrefix("torchvision/") == true && descriptor.imageClassifier != nil, "\(name)")
            #expect(descriptor.load != nil && descriptor.architecture != nil, "\(name)")
        }
    }

    /// Binding is strict, as torch's load_state_dict is: a key no layer takes is an error naming it, except what
    /// the network declares unused (torchvision's GoogLeNet file keeps its auxiliary classifiers).
    @Test func anUnexpectedKeyIsAnErrorNamingIt() throws {
        var state = try TestSupport.closedFormStateDict(layout: "torchvision/resnet18.layout.txt")
        state["layer5.0.conv1.weight"] = Tensor(zeros: [1])
        #expect { try ResNet.network(.resnet18, weights: state) } throws: { "\($0)".contains("unexpected keys: layer5.0.conv1.weight") }
        var googLeNet = try TestSupport.closedFormStateDict(layout: "torchvision/googlenet-torchvision.layout.txt")
        googLeNet["aux1.fc2.weight"] = Tensor(zeros: [1000, 1024])
        googLeNet["bn1.num_batches_tracked"] = Tensor(zeros: [1])
        _ = try GoogLeNetTorchvision.network(weights: googLeNet)
        googLeNet["aux3.fc2.weight"] = Tensor(zeros: [1])
        #expect(throws: NetworkError.self) { try GoogLeNetTorchvision.network(weights: googLeNet) }
    }

    @Test func wrongShapeInAStateDictNamesTheTensor() throws {
        var state = try TestSupport.closedFormStateDict(layout: "torchvision/resnet18.layout.txt")
        state["layer2.0.conv1.weight"] = Tensor(zeros: [128, 64, 1, 1])
        #expect {
            try ResNet.network(.resnet18, weights: state)
        } throws: { error in
            "\(error)".contains("layer2.0.conv1.weight") && "\(error)".contains("[128, 64, 3, 3]")
        }
    }
}
