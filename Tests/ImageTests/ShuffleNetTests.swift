import AudioNet
import Formats
import Models
import NetCore
import TestSupport
import Testing

/// MATLAB's ShuffleNet: the graph of the model zoo's Caffe2 `shufflenet-9.onnx` through the ONNX importer. That file is
/// not reachable here; Tests/Reference/make_onnx_fixtures.py writes a ShuffleNet v1 in its form (Caffe2's names and
/// operators, seeded weights) and records ONNX Runtime's outputs on two of the shared images.
@Suite struct ShuffleNetTests {
    static let store = WeightStore.fromEnvironment()

    /// The catalog network with the fixture file, fed the images channels-last, gives ONNX Runtime's probabilities and
    /// logits within 1e-4 of the largest.
    @Test(arguments: [0, 1])
    func theCatalogNetworkAgreesWithONNXRuntime(image: Int) throws {
        guard let file = TestSupport.generatedFixture("onnx/shufflenet-v1-caffe2.onnx") else { return }
        let descriptor = try #require(Networks.named("shufflenet"))
        let network = try descriptor.load!("shufflenet", Self.store, file).optimized()
        #expect(network.inputShape == descriptor.inputSize)
        let input = try NPY.read(path: TestSupport.generatedFixture("onnx/shufflenet-v1-caffe2.\(image).input.npy")!).tensor.permuted([0, 2, 3, 1])
        let outputs = try network.run(input, outputs: [network.outputName, "gpu_0/pred_1"])
        for (node, file) in [(network.outputName, "output"), ("gpu_0/pred_1", "logits")] {
            let reference = try NPY.read(path: TestSupport.generatedFixture("onnx/shufflenet-v1-caffe2.\(image).\(file).npy")!).tensor
            let error = TestSupport.relativeError(outputs[node]!, reference)
            #expect(error <= 1e-4, "shufflenet \(node): relative error \(error)")
        }
    }

    /// The seed's 1.4 M parameters (batch-norm scales and offsets counted, as MATLAB does), 1000 ImageNet classes.
    @Test func theParameterCountIsTheSeeds() throws {
        guard let file = TestSupport.generatedFixture("onnx/shufflenet-v1-caffe2.onnx") else { return }
        let network = try Networks.named("shufflenet")!.load!("shufflenet", Self.store, file)
        let parameters = network.summary.reduce(0) { $0 + $1.parameters }
        #expect(parameters == 1_395_312)
        #expect(abs(Double(parameters) / 1e6 - 1.4) / 1.4 <= 0.03)
        #expect(network.shapes[network.outputName] == [1000])
    }

    /// `image classify` reads it with the ImageNet labels and the model zoo's normalization.
    @Test func itClassifiesWithTheImageNetLabels() throws {
        guard let file = TestSupport.generatedFixture("onnx/shufflenet-v1-caffe2.onnx") else { return }
        let classifier = try ImageClassifier.load("shufflenet", store: Self.store, weightsPath: file)
        #expect(classifier.labels.count == 1000 && classifier.labels.first == "tench, Tinca tinca")
        #expect(classifier.preprocessing == .torchvision())
    }
}
