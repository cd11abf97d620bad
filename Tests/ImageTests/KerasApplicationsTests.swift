import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// `keras.applications` networks against Keras 3 itself (on torch; NASNet, which Keras refuses on torch, on JAX): seeded
/// weights saved by Keras in its legacy HDF5 layout, Keras's outputs on random inputs (Tests/Reference/make_keras_fixtures.py).
@Suite struct KerasApplicationsTests {
    static let store = WeightStore.fromEnvironment()

    /// Each network, loaded from the weights file as Keras 3 writes it and as the official Keras 2 files are laid out
    /// (layers numbered from 1), gives Keras's pooled features and probabilities within 1e-4 of the largest.
    @Test(arguments: [("inceptionv3", "avg_pool", "keras3"), ("inceptionv3", "avg_pool", "keras2"), ("xception", "avg_pool", "keras2"),
                      ("inceptionresnetv2", "avg_pool", "keras2"), ("nasnetmobile", "global_average_pooling2d", "keras2"),
                      ("nasnetlarge", "global_average_pooling2d", "keras2")])
    func theNetworkAgreesWithKeras(_ name: String, features: String, layout: String) throws {
        guard let weights = TestSupport.generatedFixture("keras/\(name).\(layout).h5") else { return }
        let network = try #require(Networks.named(name)).load!(name, Self.store, weights).optimized()
        let input = try NPY.read(path: TestSupport.generatedFixture("keras/\(name).input.npy")!).tensor
        let outputs = try network.run(input, outputs: [network.outputName, features])
        for (node, file) in [(network.outputName, "output"), (features, "features")] {
            let reference = try NPY.read(path: TestSupport.generatedFixture("keras/\(name).\(file).npy")!).tensor
            let error = TestSupport.relativeError(outputs[node]!, reference)
            #expect(error <= 1e-4, "\(name) \(layout) \(node): relative error \(error)")
        }
    }

    /// The learnable parameters are Keras's trainable ones (count_params() less the batch-norm moving statistics).
    @Test(arguments: ["inceptionv3", "xception", "inceptionresnetv2", "nasnetmobile", "nasnetlarge"])
    func parameterCountsAreKeras(_ name: String) throws {
        guard let path = TestSupport.generatedFixture("keras/\(name).params.txt") else { return }
        let counts = try String(contentsOfFile: path, encoding: .utf8).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let network = try Networks.architecture(named: name, store: Self.store)
        #expect(network.summary.reduce(0) { $0 + $1.parameters } == counts.last)
    }

    /// OpenL3's image network, from a file whose layers are numbered as openl3's are (after the audio network built in
    /// the same session), bound in the file's order: both embedding sizes equal Keras's within 1e-4 of the largest.
    @Test(arguments: [8192, 512])
    func openL3ImageEmbeddingsAgreeWithKeras(_ size: Int) throws {
        guard let weights = TestSupport.generatedFixture("keras/openl3-image.h5") else { return }
        let name = "openl3-image-mel256-env-\(size)"
        let network = try #require(Networks.named(name)).load!(name, Self.store, weights).optimized()
        let input = try NPY.read(path: TestSupport.generatedFixture("keras/openl3-image.input.npy")!).tensor
        let output = try network.run(input)
        #expect(output.shape == [2, size])
        let error = TestSupport.relativeError(output, try NPY.read(path: TestSupport.generatedFixture("keras/openl3-image.output\(size).npy")!).tensor)
        #expect(error <= 1e-4, "\(name): relative error \(error)")
    }

    /// Another network's Keras file (YAMNet's) is an error naming the first layer it lacks.
    @Test func anotherNetworksWeightFileNamesTheMissingLayer() throws {
        guard let path = TestSupport.generatedFixture("yamnet-synthetic.h5") else { return }
        #expect { try InceptionV3.network(weights: KerasWeights(path: path)) } throws: {
            "\($0)".contains("the Keras weight file has no layer 'conv2d'") && !"\($0)".contains("\n")
        }
    }
}
