import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

@Suite struct TorchvisionArchitectureTests {
    static let names = ["resnet18", "resnet50", "resnet101", "squeezenet", "googlenet", "alexnet", "vgg16", "vgg19",
                        "densenet201", "shufflenet", "efficientnetb0"]

    /// Each catalog network, given torchvision's state_dict layout with closed-form weights, against
    /// torchvision itself on the same input: relative error ≤ 1e-4 and the same top-1.
    @Test(arguments: names) func logitsMatchTorchvision(_ name: String) throws {
        let entry = try #require(TorchvisionNetworks.entries[name])
        let network = try entry.build(try TestSupport.closedFormStateDict(layout: "torchvision/\(name).layout.txt")).optimized()
        let input = try NPY.read(path: TestSupport.fixture("torchvision/input\(entry.inputSize).npy")).tensor
        let logits = try network.run(input).scalars
        let reference = try NPY.read(path: TestSupport.fixture("torchvision/\(name).logits.npy")).floats
        let scale = max(1, reference.map(abs).max()!)
        let error = TestSupport.maxAbsDifference(logits, reference) / scale
        #expect(error <= 1e-4, "\(name): relative error \(error)")
        #expect(logits.indices.max { logits[$0] < logits[$1] } == reference.indices.max { reference[$0] < reference[$1] })
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
