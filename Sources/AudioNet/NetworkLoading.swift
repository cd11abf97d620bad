import Foundation
import Formats
import Models
import NetCore

/// Building the registry's networks by name, for `audionet run`, `info` and the task types.
extension Networks {
    /// The descriptor of a network AudioNet builds, or an error that lists the names to use instead.
    public static func buildable(_ name: String) throws -> NetworkDescriptor {
        guard let descriptor = named(name) else { throw AudioNetError.unknownModel(name, known: all.map(\.name)) }
        guard descriptor.load != nil else { throw AudioNetError.notImplemented(name, available: built.map(\.name)) }
        return descriptor
    }

    /// The architecture with placeholder weights and every layer in place (BatchNorm unfolded), for layer
    /// tables. A network whose graph comes only from its weight file (MobileNetV2's TFLite) is read from it.
    public static func architecture(named name: String, store: WeightStore = .fromEnvironment()) throws -> Network {
        if let file = try networkFile(name) { return file }
        let descriptor = try buildable(name)
        if let architecture = descriptor.architecture { return try architecture(name, store) }
        return try descriptor.load!(name, store, nil)
    }

    /// The network with its real weights, BatchNorm and activations folded, ready to run.
    /// A name ending in `.onnx`, `.tflite` or `.caffemodel` is a network file, read whole (graph and weights).
    public static func network(named name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil) throws -> Network {
        if let file = try networkFile(name) {
            guard weightsPath == nil else { throw AudioNetError.invalidOption("\(name) holds its own weights; --weights is for the built-in networks") }
            return file.optimized()
        }
        return try buildable(name).load!(name, store, weightsPath).optimized()
    }

    /// The graph of a network file (`.onnx`, `.tflite`, `.caffemodel` with its definition, or a `.prototxt` alone
    /// with placeholder weights), or nil when `name` does not name one.
    static func networkFile(_ name: String) throws -> Network? {
        switch (name as NSString).pathExtension.lowercased() {
        case "onnx": return try ONNXModel(path: name).network()
        case "tflite": return try TFLiteModel(path: name).network()
        case "caffemodel": return try CaffeModel(prototxt: try caffeDefinition(for: name), caffemodel: name).network()
        case "prototxt": return try CaffeModel(prototxt: name, caffemodel: nil).network()
        default: return nil
        }
    }

    /// The files `name` reads when it names a network file (a `.caffemodel` reads its definition too, an `.onnx`
    /// file its external data), which no output may overwrite; empty for a built-in network.
    public static func inputFiles(of name: String) -> [String] {
        guard FileManager.default.fileExists(atPath: name) else { return [] }
        switch (name as NSString).pathExtension.lowercased() {
        case "caffemodel": return [name] + [try? caffeDefinition(for: name)].compactMap { $0 }
        case "onnx": return [name] + ((try? ONNXModel(path: name))?.externalDataFiles ?? [])
        default: return [name]
        }
    }

    /// The definition beside a `.caffemodel`: `NAME.prototxt`, else the folder's `deploy.prototxt` (the model zoo's names).
    static func caffeDefinition(for caffemodel: String) throws -> String {
        let folder = (caffemodel as NSString).deletingLastPathComponent
        let candidates = [(caffemodel as NSString).deletingPathExtension + ".prototxt", (folder as NSString).appendingPathComponent("deploy.prototxt")]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw AudioNetError.invalidOption("\(caffemodel) needs its network definition beside it: \(candidates.map { ($0 as NSString).lastPathComponent }.joined(separator: " or "))")
        }
        return found
    }
}
