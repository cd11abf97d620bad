import Foundation
import NetCore
import Platform
import ProtobufSchemas
import SwiftProtobuf

/// An ONNX model file (`.onnx`) read through the schema generated from onnx.proto: its graph, its default-domain
/// opset and its constant tensors. Tensors kept outside the file (`data_location: EXTERNAL`) are read from files in
/// the model's folder, never from outside it.
public struct ONNXModel: Sendable {
    static let format = "ONNX"
    /// The opsets whose operators ``network()`` reads (ONNX 1.2 to 1.16).
    public static let opsets = 7...21

    public let graph: Onnx_GraphProto
    /// The version of the default (`ai.onnx`) operator set the graph uses.
    public let opset: Int
    /// The program that wrote the file, with its version.
    public let producer: String
    /// The folder external tensor data is read from (nil: none may be).
    let folder: String?

    /// Reads an `.onnx` file.
    public init(path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: Int(Int32.max))  // protobuf's 2 GB limit
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: error.description)
        }
        try self.init(bytes: bytes, folder: (path as NSString).deletingLastPathComponent)
    }

    /// Parses ONNX bytes; external tensor data, if any, is looked for in `folder`.
    public init(bytes: [UInt8], folder: String? = nil) throws {
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: "not an ONNX protobuf (\(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else { throw ModelFileError.malformed(format: Self.format, reason: "no graph") }
        let defaults = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let version = defaults.first?.version, let opset = Int(exactly: version) else {
            throw ModelFileError.malformed(format: Self.format, reason: "no opset of the default domain")
        }
        guard Self.opsets.contains(opset) else {
            throw ModelFileError.unsupported(format: Self.format, reason: "opset \(opset) (AudioNet reads opsets \(Self.opsets.lowerBound)–\(Self.opsets.upperBound))")
        }
        graph = model.graph
        self.opset = opset
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        self.folder = folder
    }

    /// The files the model's external tensor data lives in (resolved in the model's folder), which a command must
    /// treat as inputs: an output written over one would destroy the model's weights.
    public var externalDataFiles: [String] {
        guard let folder else { return [] }
        let locations = Set(graph.initializer.filter { $0.dataLocation == .external }.compactMap { tensor in
            tensor.externalData.first { $0.key == "location" }?.value
        })
        return locations.sorted().map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: folder + "/")).standardizedFileURL.path }
    }

    /// The element count of `dims`, refusing negative or overflowing sizes.
    static func elementCount(_ dims: [Int64], of name: String) throws -> Int {
        guard let count = CheckedSize.elementCount(dims.map { Int($0) }), dims.allSatisfy({ $0 >= 0 }), count <= 1 << 32 else {
            throw ModelFileError.malformed(format: format, reason: "tensor '\(name)' has the shape \(dims)")
        }
        return count
    }

    /// A constant tensor's values as Float (float32, float64, float16 and the integer types; integers past 2²⁴ lose
    /// precision, so shapes and axes are read with ``integers(_:)``).
    public func floats(_ tensor: Onnx_TensorProto) throws -> Tensor {
        let count = try Self.elementCount(tensor.dims, of: tensor.name)
        let values: [Float]
        switch Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)) {
        case .float:
            values = tensor.floatData.isEmpty && count > 0 ? try raw(tensor, count: count, as: Float.self) : tensor.floatData
        case .double:
            values = (tensor.doubleData.isEmpty && count > 0 ? try raw(tensor, count: count, as: Double.self) : tensor.doubleData).map { Float($0) }
        case .float16:
            values = tensor.int32Data.isEmpty && count > 0 ? try raw(tensor, count: count, as: Float16.self).map { Float($0) }
                                                           : tensor.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
        default:
            values = try integers(tensor).map { Float($0) }
        }
        guard values.count == count else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)' holds \(values.count) values for the shape \(tensor.dims)")
        }
        return Tensor(shape: tensor.dims.map { Int($0) }, scalars: values)
    }

    /// An integer tensor's values (int64, int32 and the narrower integer types, bool).
    public func integers(_ tensor: Onnx_TensorProto) throws -> [Int] {
        let count = try Self.elementCount(tensor.dims, of: tensor.name)
        let values: [Int]
        switch Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)) {
        case .int64:
            values = tensor.int64Data.isEmpty && count > 0 ? try raw(tensor, count: count, as: Int64.self).map { Int($0) } : tensor.int64Data.map { Int($0) }
        case .int32:
            values = tensor.int32Data.isEmpty && count > 0 ? try raw(tensor, count: count, as: Int32.self).map { Int($0) } : tensor.int32Data.map { Int($0) }
        case .int8, .uint8, .int16, .uint16, .bool:
            guard tensor.int32Data.isEmpty && count > 0 else { values = tensor.int32Data.map { Int($0) }; break }
            switch Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)) {
            case .int8: values = try raw(tensor, count: count, as: Int8.self).map { Int($0) }
            case .int16: values = try raw(tensor, count: count, as: Int16.self).map { Int($0) }
            case .uint16: values = try raw(tensor, count: count, as: UInt16.self).map { Int($0) }
            default: values = try raw(tensor, count: count, as: UInt8.self).map { Int($0) }
            }
        case .float, .double, .float16:
            values = try floats(tensor).scalars.map { value in
                guard let integer = Int(exactly: value) else {
                    throw ModelFileError.unsupported(format: Self.format, reason: "tensor '\(tensor.name)' holds \(value) where an integer belongs")
                }
                return integer
            }
        default:
            throw ModelFileError.unsupported(format: Self.format, reason: "tensor '\(tensor.name)' of data type \(tensor.dataType)")
        }
        guard values.count == count else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)' holds \(values.count) values for the shape \(tensor.dims)")
        }
        return values
    }

    /// The little-endian bytes of a tensor: `raw_data`, or its external file's range.
    func payload(_ tensor: Onnx_TensorProto) throws -> [UInt8] {
        guard tensor.dataLocation == .external else { return Array(tensor.rawData) }
        let entries = Dictionary(tensor.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let location = entries["location"], !location.isEmpty else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)' is external with no location")
        }
        guard let folder else {
            throw ModelFileError.unsupported(format: Self.format, reason: "tensor '\(tensor.name)' is in an external file, and this model has no folder")
        }
        // The location must name a file inside the model's folder, however it is spelled or linked.
        let base = URL(fileURLWithPath: folder).standardizedFileURL.resolvingSymlinksInPath().path
        let file = URL(fileURLWithPath: location, relativeTo: URL(fileURLWithPath: base + "/")).standardizedFileURL.resolvingSymlinksInPath().path
        guard !location.hasPrefix("/"), file.hasPrefix(base + "/") else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)' points outside the model's folder ('\(location)')")
        }
        let offset = Int(entries["offset"] ?? "0") ?? -1, length = entries["length"].map { Int($0) ?? -1 }
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(file)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)': \(error.description)")
        }
        let end = length.map { offset + $0 } ?? bytes.count
        guard offset >= 0, (length ?? 0) >= 0, end <= bytes.count, offset <= end else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)' reads bytes \(offset)..<\(end) of a \(bytes.count)-byte file '\(location)'")
        }
        return Array(bytes[offset..<end])
    }

    /// `count` values of type `T` from the tensor's bytes, which must hold exactly that many.
    func raw<T>(_ tensor: Onnx_TensorProto, count: Int, as _: T.Type) throws -> [T] {
        let bytes = try payload(tensor)
        guard bytes.count == count * MemoryLayout<T>.size else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(tensor.name)' has \(bytes.count) bytes for \(count) values of \(MemoryLayout<T>.size) bytes")
        }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            initialized = count
        }
    }
}
