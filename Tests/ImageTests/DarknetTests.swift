import AudioNet
import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// Darknet-19 and Darknet-53 from Darknet's own `.cfg` files (the shared definitions) with `.weights` in Darknet's
/// layout: seeded ones written by Tests/Reference/make_darknet_fixtures.py, with a PyTorch interpreter of the same
/// `.cfg` as reference.
@Suite struct DarknetTests {
    static let store = WeightStore.fromEnvironment()

    /// The catalog network with the fixture's weights, fed the fixture's input channels-last, gives PyTorch's
    /// probabilities and the layer before them within 1e-4 of the largest.
    @Test(arguments: [("darknet19", "avgpool24"), ("darknet53", "conv76")])
    func theCatalogNetworkAgreesWithPyTorch(_ name: String, logits: String) throws {
        guard let weights = TestSupport.generatedFixture("darknet/\(name).weights") else { return }
        let descriptor = try #require(Networks.named(name))
        let network = try descriptor.load!(name, Self.store, weights).optimized()
        let input = try NPY.read(path: TestSupport.generatedFixture("darknet/\(name).input.npy")!).tensor.permuted([0, 2, 3, 1])
        let outputs = try network.run(input, outputs: [network.outputName, logits])
        for (node, file) in [(network.outputName, "output"), (logits, "logits")] {
            let reference = try NPY.read(path: TestSupport.generatedFixture("darknet/\(name).\(file).npy")!).tensor
            let error = TestSupport.relativeError(outputs[node]!.reshaped(reference.shape), reference)
            #expect(error <= 1e-4, "\(name) \(node): relative error \(error)")
        }
    }

    /// The seed's parameter counts within 3 % (20.8 M, 41.6 M); batch-norm statistics are not parameters.
    @Test(arguments: [("darknet19", 20_842_376, 20.8), ("darknet53", 41_609_928, 41.6)])
    func parameterCountsAreTheSeeds(_ name: String, exact: Int, seed: Double) throws {
        let network = try Networks.architecture(named: name, store: Self.store)
        let parameters = network.summary.reduce(0) { $0 + $1.parameters }
        #expect(parameters == exact)
        #expect(abs(Double(parameters) / 1e6 - seed) / seed <= 0.03)
    }

    /// Darknet's labels are its own order (kit fox first), the first 1000 lines of its short-name list.
    @Test func theLabelsAreDarknetsOrder() throws {
        let names = try Darknet.darknet19.imageClassifier!.labels.names(store: Self.store)
        #expect(names.count == 1000 && names.first == "kit fox")
    }

    // MARK: Bad files

    static let smallCFG = "[net]\nheight=8\nwidth=8\nchannels=3\n\n[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=leaky\n\n[maxpool]\nsize=2\nstride=2\n\n[avgpool]\n\n[softmax]\n"

    /// The message of reading `cfg` with `weights` (a version-0.2 header then `values` floats).
    func error(cfg: String = smallCFG, values: Int? = nil, header: [Int32] = [0, 2, 0, 0, 0]) -> String {
        let weights = values.map { count in header.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } + [UInt8](repeating: 0, count: 4 * count) }
        do {
            _ = try DarknetModel(definition: cfg, weights: weights).network()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// A truncated or oversized weights file, a section AudioNet does not read and a malformed line are one-line
    /// errors naming what is wrong; the right count of values reads.
    @Test func badDefinitionsAndWeightsAreOneLineErrors() {
        let needed = 4 * 4 + 4 * 3 * 9  // biases, scales, means, variances; kernel
        #expect(error(values: needed) == "no error")
        for (message, expected) in [
            (error(values: needed - 1), "ends inside layer 0's kernel"),
            (error(values: needed + 1), "holds 4 bytes more than the definition reads"),
            (error(values: 0, header: [0, 2]), "less than its header"),
            (error(cfg: Self.smallCFG + "[route]\nlayers=-1\n"), "[route] layer 4 (line 20) is not supported"),
            (error(cfg: Self.smallCFG + "[shortcut]\nfrom=-9\n"), "which is not an earlier layer"),
            (error(cfg: "[net]\nheight=8\n"), "[net] gives height 8, width –"),
            (error(cfg: "height=8\n"), "line 1 'height=8' is not key=value inside a section"),
            (error(cfg: Self.smallCFG.replacingOccurrences(of: "leaky", with: "mish")), "activation 'mish'"),
            (error(cfg: Self.smallCFG.replacingOccurrences(of: "filters=4", with: "filters=0")), "has 0 filters of size 3"),
            (error(cfg: Self.smallCFG.replacingOccurrences(of: "filters=4\nsize=3", with: "filters=65535\nsize=9999")),
             "has 65535×3×9999×9999 weights (AudioNet: at most 2^28 per layer)"),
            // Without weights, 15000 biases and 9999 × 15000 weights are the 150 M placeholders allowed; the next bias is not.
            (error(cfg: "[net]\nheight=1\nwidth=1\nchannels=9999\n[convolutional]\nfilters=15000\n[convolutional]\nfilters=1\n"),
             "needs more than 150 M placeholder weights without a weights file (at layer 1's biases)"),
        ] {
            #expect(message.contains(expected) && !message.contains("\n"), "\(message)")
        }
    }
}
