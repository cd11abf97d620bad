import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// The closed-form weights of Tests/Reference/make_torchvision_fixtures.py (`fill`): a multiplicative hash of
/// the element index in exact integer arithmetic, shaped per kind of tensor.
func filled(name: String, shape: [Int], ordinal: Int) -> Tensor {
    let count = shape.reduce(1, *)
    let fanIn = Double(shape.dropFirst().reduce(1, *))
    let values = (0..<count).map { i -> Float in
        let h = 2.0 * Double((Int64(i) &* 2_654_435_761 &+ Int64(ordinal) &* 97_531) % 4_294_967_296) / 4_294_967_296.0 - 1.0
        if name.hasSuffix("running_var") { return Float(1.0 + 0.5 * abs(h)) }
        if name.hasSuffix("running_mean") || name.hasSuffix("bias") { return Float(0.1 * h) }
        if shape.count == 1 { return Float(1.0 + 0.1 * h) }
        return Float(h * (6.0 / fanIn).squareRoot())
    }
    return Tensor(shape: shape, scalars: values)
}

/// A state_dict rebuilt from `<name>.layout.txt`: the same names, shapes and order as torchvision's.
func formulaStateDict(_ name: String) throws -> [String: Tensor] {
    let lines = try String(contentsOfFile: TestSupport.fixture("torchvision/\(name).layout.txt"), encoding: .utf8).split(separator: "\n")
    return Dictionary(uniqueKeysWithValues: lines.enumerated().map { ordinal, line in
        let parts = line.split(separator: " ")
        let key = String(parts[0]), shape = parts.dropFirst().map { Int($0)! }
        return (key, filled(name: key, shape: shape, ordinal: ordinal))
    })
}

@Suite struct TorchvisionArchitectureTests {
    static let names = ["resnet18", "resnet50", "resnet101", "squeezenet", "googlenet", "alexnet", "vgg16", "vgg19",
                        "densenet201", "shufflenet", "efficientnetb0"]

    /// Each catalog network, given torchvision's state_dict layout with closed-form weights, against
    /// torchvision itself on the same input: relative error ≤ 1e-4 and the same top-1.
    @Test(arguments: names) func logitsMatchTorchvision(_ name: String) throws {
        let entry = try #require(TorchvisionNetworks.entries[name])
        let network = try entry.build(try formulaStateDict(name)).optimized()
        let input = try NPY.read(path: TestSupport.fixture("torchvision/input\(entry.inputSize).npy")).tensor
        let logits = try network.run(input).scalars
        let reference = try NPY.read(path: TestSupport.fixture("torchvision/\(name).logits.npy")).floats
        let scale = max(1, reference.map(abs).max()!)
        let error = TestSupport.maxAbsDifference(logits, reference) / scale
        #expect(error <= 1e-4, "\(name): relative error \(error)")
        #expect(logits.indices.max { logits[$0] < logits[$1] } == reference.indices.max { reference[$0] < reference[$1] })
    }

    @Test func wrongShapeInAStateDictNamesTheTensor() throws {
        var state = try formulaStateDict("resnet18")
        state["layer2.0.conv1.weight"] = Tensor(zeros: [128, 64, 1, 1])
        #expect {
            try ResNet.network(.resnet18, weights: state)
        } throws: { error in
            "\(error)".contains("layer2.0.conv1.weight") && "\(error)".contains("[128, 64, 3, 3]")
        }
    }
}
