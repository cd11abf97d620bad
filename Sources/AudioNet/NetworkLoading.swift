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
    /// A name ending in `.onnx`, `.tflite`, `.caffemodel` or `.weights` is a network file, read whole (graph and weights).
    public static func network(named name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil) throws -> Network {
        if let file = try networkFile(name) {
            guard weightsPath == nil else { throw AudioNetError.invalidOption("\(name) holds its own weights; --weights is for the built-in networks") }
            return file.optimized()
        }
        return try buildable(name).load!(name, store, weightsPath).optimized()
    }

    /// The graph of a network file (`.onnx`, `.tflite`, `.caffemodel` or Darknet `.weights` with its definition, or a
    /// `.prototxt` or `.cfg` alone with placeholder weights), or nil when `name` does not name one.
    static func networkFile(_ name: String) throws -> Network? {
        switch (name as NSString).pathExtension.lowercased() {
        case "onnx": return try ONNXModel(path: name).network()
        case "tflite": return try TFLiteModel(path: name).network()
        case "caffemodel":
            return try CaffeModel(prototxt: try definition(of: name, extension: "prototxt", fallback: "deploy.prototxt"), caffemodel: name).network()
        case "prototxt": return try CaffeModel(prototxt: name, caffemodel: nil).network()
        case "weights": return try DarknetModel(cfg: try definition(of: name, extension: "cfg", fallback: nil), weights: name).network()
        case "cfg": return try DarknetModel(cfg: name, weights: nil).network()
        default: return nil
        }
    }

    /// The files `name` reads when it names a network file (a `.caffemodel` reads its definition too, an `.onnx`
    /// file its external data), which no output may overwrite; empty for a built-in network.
    public static func inputFiles(of name: String) -> [String] {
        guard FileManager.default.fileExists(atPath: name) else { return [] }
        switch (name as NSString).pathExtension.lowercased() {
        case "caffemodel": return [name] + [try? definition(of: name, extension: "prototxt", fallback: "deploy.prototxt")].compactMap { $0 }
        case "weights": return [name] + [try? definition(of: name, extension: "cfg", fallback: nil)].compactMap { $0 }
        case "onnx": return [name] + ((try? ONNXModel(path: name))?.externalDataFiles ?? [])
        default: return [name]
        }
    }

    /// The definition beside a weights file: `NAME.prototxt` beside `NAME.caffemodel`, else the folder's `fallback`
    /// (`deploy.prototxt`, the Caffe model zoo's name); `NAME.cfg` beside Darknet's `NAME.weights`.
    static func definition(of weights: String, extension: String, fallback: String?) throws -> String {
        let folder = (weights as NSString).deletingLastPathComponent
        let candidates = [(weights as NSString).deletingPathExtension + "." + `extension`] + [fallback.map { (folder as NSString).appendingPathComponent($0) }].compactMap { $0 }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw AudioNetError.invalidOption("\(weights) needs its network definition beside it: \(candidates.map { ($0 as NSString).lastPathComponent }.joined(separator: " or "))")
        }
        return found
    }
}
