import Foundation
import Formats
import NetCore
import ProtobufSchemas
import SwiftProtobuf
import TestSupport
import Testing

/// Caffe networks with seeded weights against a PyTorch interpreter of their definitions
/// (Tests/Reference/make_caffe_fixtures.py, run by `make generated-fixtures`).
@Suite struct CaffeImportTests {
    static let folder = TestSupport.repositoryRoot.appendingPathComponent(".build/generated-fixtures/caffe")

    func path(_ file: String) -> String { Self.folder.appendingPathComponent(file).path }

    /// The fixture's definition and weights, or nil (recorded) when the fixtures were not made.
    func model(_ name: String) throws -> CaffeModel? {
        guard FileManager.default.fileExists(atPath: path(name + ".caffemodel")) else {
            Issue.record("\(path(name + ".caffemodel")) is missing, so the Caffe import cannot be checked: run `make generated-fixtures`")
            return nil
        }
        return try CaffeModel(prototxt: path(name + ".prototxt"), caffemodel: path(name + ".caffemodel"))
    }

    /// BVLC GoogLeNet's own deploy definition (LRN, Caffe's rounded-up pooling, inception concatenations) and a network
    /// of BatchNorm, Scale, Eltwise, an inner product over a feature map and V1-form weights: the probabilities and the
    /// logits before them agree with PyTorch within 1e-4 of the largest.
    @Test(arguments: [("googlenet", "loss3/classifier"), ("residual", "fc")])
    func theImportedNetworkAgreesWithPyTorch(_ name: String, logits: String) throws {
        guard let model = try model(name) else { return }
        let network = try model.network().optimized()
        let input = try NPY.read(path: path(name + ".input.npy")).tensor
        let outputs = try network.run(input, outputs: [network.outputName, logits])
        for (node, file) in [(network.outputName, ".output.npy"), (logits, ".logits.npy")] {
            let error = TestSupport.relativeError(outputs[node]!, try NPY.read(path: path(name + file)).tensor)
            #expect(error <= 1e-4, "\(name) \(node): relative error \(error)")
        }
    }

    /// MATLAB's GoogLeNet is BVLC's: 7.0 M parameters, 144 layers as the definition lists them (in-place ones included).
    @Test func theBVLCGoogLeNetDefinitionAloneGivesItsArchitecture() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("$AUDIONET_WEIGHTS_MIRROR is not set, so the shared GoogLeNet definition cannot be read")
            return
        }
        let network = try CaffeModel(prototxt: mirror + "/bvlc_googlenet/deploy.prototxt", caffemodel: nil).network()
        #expect(network.inputShape == [3, 224, 224] && network.shapes["prob"] == [1000])
        #expect(network.summary.reduce(0) { $0 + $1.parameters } == 6_998_552)
    }

    // MARK: Bad files

    /// The error of reading the residual fixture with its definition or weights replaced.
    func error(definition: String? = nil, weights: [UInt8]? = nil) throws -> String? {
        guard FileManager.default.fileExists(atPath: path("residual.caffemodel")) else {
            Issue.record("the Caffe fixtures are missing: run `make generated-fixtures`")
            return nil
        }
        let folder = TestSupport.temporaryDirectory()
        let prototxt = folder.appendingPathComponent("net.prototxt").path, caffemodel = folder.appendingPathComponent("net.caffemodel").path
        try (definition ?? String(contentsOfFile: path("residual.prototxt"), encoding: .utf8)).write(toFile: prototxt, atomically: true, encoding: .utf8)
        try Data(weights ?? Array(Data(contentsOf: URL(fileURLWithPath: path("residual.caffemodel"))))).write(to: URL(fileURLWithPath: caffemodel))
        do {
            _ = try CaffeModel(prototxt: prototxt, caffemodel: caffemodel).network()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func truncatedOrForeignWeightsAreOneLineErrors() throws {
        let weights = try Array(Data(contentsOf: URL(fileURLWithPath: path("residual.caffemodel"))))
        for bytes in [Array(weights.prefix(weights.count / 2)), Array("not protobuf at all".utf8)] {
            guard let message = try error(weights: bytes) else { return }
            #expect(message.contains("not a Caffe weight file") && !message.contains("\n"), "\(message)")
        }
    }

    @Test func aBlobOfTheWrongSizeNamesTheLayer() throws {
        var trained = try Caffe_NetParameter(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path("residual.caffemodel"))))
        let index = try #require(trained.layers.firstIndex { $0.name == "fc" })
        trained.layers[index].blobs[0].data.removeLast()
        let message = try error(weights: try trained.serializedBytes())
        #expect(message?.contains("blob 0 of layer 'fc' holds 3359 values, where the definition needs 3360") == true, "\(message ?? "")")
        trained.layers.remove(at: index)
        let missing = try error(weights: try trained.serializedBytes())
        #expect(missing?.contains("no blob 0 for layer 'fc'") == true, "\(missing ?? "")")
    }

    @Test func anUnsupportedLayerOrAMalformedDefinitionIsNamed() throws {
        let definition = try String(contentsOfFile: path("residual.prototxt"), encoding: .utf8)
        let unsupported = try error(definition: definition.replacingOccurrences(of: "type: \"TanH\"", with: "type: \"PReLU\""))
        #expect(unsupported?.hasPrefix("unsupported Caffe file: PReLU layer 'squash' is not supported") == true, "\(unsupported ?? "")")
        let malformed = try error(definition: definition + "layer { name: ")
        #expect(malformed?.contains("not a Caffe network definition") == true && malformed?.contains("\n") == false, "\(malformed ?? "")")
        let dangling = try error(definition: definition.replacingOccurrences(of: "bottom: \"gate\"", with: "bottom: \"nowhere\""))
        #expect(dangling?.contains("'sum'") == true && dangling?.contains("nowhere") == true, "\(dangling ?? "")")
        let huge = try error(definition: definition.replacingOccurrences(of: "num_output: 10", with: "num_output: 4000000000"))
        #expect(huge?.contains("'fc'") == true, "\(huge ?? "")")
        // 65534 × 4 × 65535² placeholder weights (a petabyte): refused by count, before anything is allocated.
        let overflowing = try error(definition: definition.replacingOccurrences(of: "kernel_size: 3 pad: 2 dilation: 2 group: 2",
                                                                                with: "kernel_size: 65535 pad: 40000 group: 2 num_output: 65534"))
        #expect(overflowing?.contains("Convolution layer 'branch' has") == true && overflowing?.contains("at most 2^28 per layer") == true,
                "\(overflowing ?? "")")
    }

    /// A definition read without weights gets placeholder zeros up to 150 M in all: 10000 × 15000 is that bound exactly,
    /// and a further layer is refused by count, before its zeros are made.
    @Test func placeholderWeightsOfADefinitionAloneAreBoundedInAll() throws {
        let wide = """
            input: "data" input_dim: 1 input_dim: 10000 input_dim: 1 input_dim: 1
            layer { name: "wide" type: "InnerProduct" bottom: "data" top: "wide" inner_product_param { num_output: 15000 bias_term: false } }
            """
        let more = wide + "\nlayer { name: \"more\" type: \"InnerProduct\" bottom: \"wide\" top: \"more\" inner_product_param { num_output: 1 } }"
        #expect(try CaffeModel(definition: wide, weights: nil).network().shapes["wide"] == [15000])
        let reason = "the definition needs more than 150 M placeholder weights without a weights file (at InnerProduct layer 'more')"
        #expect(throws: ModelFileError.unsupported(format: "Caffe", reason: reason)) { try CaffeModel(definition: more, weights: nil).network() }
    }
}
