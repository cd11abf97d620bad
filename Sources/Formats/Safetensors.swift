import Foundation
import NetCore
import Platform

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header mapping
/// each tensor's name to its dtype, shape and byte range in the data that follows, and an optional
/// `__metadata__` map of strings. AudioNet writes and reads float32 tensors; every range and size is checked.
public enum Safetensors {
    static let format = "safetensors"
    /// Headers beyond this are refused (safetensors' own limit is 100 MB).
    static let maximumHeaderSize = 100_000_000

    /// Writes `tensors` (float32) and `metadata` to `path` through ``OutputFile`` (never over a directory; a failed
    /// write leaves any existing file untouched).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], path: String) throws {
        try OutputFile.write(encode(tensors, metadata: metadata), to: path)
    }

    /// The bytes of a safetensors file holding `tensors` (float32, in name order) and `metadata`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let bytes = tensors[name]!.count * 4
            header[name] = ["dtype": "F32", "shape": tensors[name]!.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // the format pads the header with spaces to 8 bytes
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            tensors[name]!.scalars.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        }
        return [UInt8](data)
    }

    /// Reads every tensor (float32 only) and the metadata of the file at `path`.
    public static func read(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw ModelFileError.malformed(format: format, reason: error.description)
        }
        return try decode(bytes)
    }

    /// Decodes a safetensors file's bytes.
    public static func decode(_ bytes: [UInt8]) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ reason: String) -> ModelFileError { .malformed(format: format, reason: reason) }
        guard bytes.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let headerSize = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerSize <= UInt64(min(maximumHeaderSize, bytes.count - 8)) else { throw fail("header of \(headerSize) bytes") }
        let dataStart = 8 + Int(headerSize)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let map = raw as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = map
        }
        var tensors: [String: Tensor] = [:]
        let dataSize = bytes.count - dataStart
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw ModelFileError.unsupported(format: format, reason: "tensor '\(name)' is \(dtype), not F32") }
            guard shape.allSatisfy({ $0 >= 0 }), let count = CheckedSize.elementCount(shape), count <= dataSize / 4,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize, offsets[1] - offsets[0] == count * 4 else {
                throw fail("tensor '\(name)' of shape \(shape) does not fit its bytes \(offsets)")
            }
            var scalars = [Float](repeating: 0, count: count)
            scalars.withUnsafeMutableBytes { target in
                bytes.withUnsafeBytes { source in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(dataStart + offsets[0])..<(dataStart + offsets[1])]))
                }
            }
            tensors[name] = Tensor(shape: shape, scalars: scalars)
        }
        return (tensors, metadata)
    }
}
