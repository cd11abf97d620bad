import Foundation
import NetCore
import ZIPFoundation
import Platform

/// A PyTorch state_dict read from a `.pth`/`.pt` zip archive (`torch.save`, PyTorch ≥ 1.6): the pickle is read
/// by ``RestrictedUnpickler`` (never executing code) and each tensor gathered from its storage with its
/// offset and strides, converted to Float32.
public struct PyTorchStateDict: Sendable {
    static let format = "PyTorch"
    /// Parameter names in file order (nested dictionaries joined with dots).
    public let names: [String]
    /// Tensors by name.
    public let tensors: [String: Tensor]

    /// Reads a state_dict file: the zip format of PyTorch ≥ 1.6, or the legacy sequential format.
    public init(path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: error.description)
        }
        let (root, storages): (RestrictedUnpickler.Value, (String) throws -> [UInt8])
        if bytes.starts(with: [0x50, 0x4B]) {  // "PK": a zip archive
            do {
                try ZipDirectoryCheck.validate(bytes)
            } catch {
                throw ModelFileError.malformed(format: Self.format, reason: "'\(path)': \(error.description)")
            }
            (root, storages) = try Self.zipContents(path: path, size: bytes.count)
        } else if bytes.starts(with: [0x80, 0x02]) {
            (root, storages) = try Self.legacyContents(bytes)
        } else {
            throw ModelFileError.unsupported(format: Self.format, reason: "'\(path)' is neither a zip nor a legacy torch.save file")
        }
        var names: [String] = [], tensors: [String: Tensor] = [:], cache: [String: [UInt8]] = [:]
        func visit(_ value: RestrictedUnpickler.Value, name: String) throws {
            switch value {
            case .dict(let entries):
                for (key, item) in entries {
                    guard case .string(let text) = key else { continue }
                    try visit(item, name: name.isEmpty ? text : "\(name).\(text)")
                }
            case .tensor(let stored):
                if cache[stored.storageKey] == nil { cache[stored.storageKey] = try storages(stored.storageKey) }
                names.append(name)
                tensors[name] = try Self.gather(stored, from: cache[stored.storageKey]!, name: name)
            default:
                break
            }
        }
        try visit(root, name: "")
        self.names = names
        self.tensors = tensors
    }

    /// The zip format: `<prefix>/data.pkl` and one `<prefix>/data/<key>` entry per storage.
    static func zipContents(path: String, size: Int) throws -> (RestrictedUnpickler.Value, (String) throws -> [UInt8]) {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ModelFileError.malformed(format: format, reason: "'\(path)' is not a readable zip archive")
        }
        func read(_ entry: Entry) throws -> [UInt8] {
            do {
                return try ZipEntryReader.read(entry, of: archive, archiveSize: size)
            } catch {
                throw ModelFileError.malformed(format: format, reason: "'\(path)': \(error)")
            }
        }
        guard let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") }) else {
            throw ModelFileError.malformed(format: format, reason: "'\(path)' has no data.pkl")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        var unpickler = RestrictedUnpickler(bytes: try read(pickleEntry))
        let root = try unpickler.load()
        return (root, { key in
            guard let entry = archive["\(prefix)data/\(key)"] else {
                throw ModelFileError.malformed(format: format, reason: "storage \(key) is missing")
            }
            return try read(entry)
        })
    }

    /// The legacy format (torch.save before 1.6): pickles of the magic number, protocol version and system
    /// information, the state_dict, the list of storage keys, then each storage as an 8-byte element count
    /// followed by its bytes.
    static func legacyContents(_ bytes: [UInt8]) throws -> (RestrictedUnpickler.Value, (String) throws -> [UInt8]) {
        var unpickler = RestrictedUnpickler(bytes: bytes)
        for _ in 0..<3 { _ = try unpickler.load() }
        let root = try unpickler.load()
        var types: [String: String] = [:]
        func collect(_ value: RestrictedUnpickler.Value) {
            switch value {
            case .dict(let entries): entries.forEach { collect($0.1) }
            case .tensor(let stored): types[stored.storageKey] = stored.storageType
            default: break
            }
        }
        collect(root)
        guard case .list(let keyValues) = try unpickler.load() else {
            throw ModelFileError.malformed(format: format, reason: "legacy file without a storage key list")
        }
        var position = unpickler.position
        var storages: [String: [UInt8]] = [:]
        for keyValue in keyValues {
            guard case .string(let key) = keyValue, let type = types[key] else {
                throw ModelFileError.malformed(format: format, reason: "legacy storage key without a tensor")
            }
            let size = try decoder(type).size
            guard position + 8 <= bytes.count else { throw ModelFileError.malformed(format: format, reason: "legacy file is truncated") }
            let count = bytes[position..<position + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
            position += 8
            guard count >= 0, count <= (bytes.count - position) / size else {
                throw ModelFileError.malformed(format: format, reason: "legacy storage \(key) runs past the end of the file")
            }
            storages[key] = Array(bytes[position..<position + count * size])
            position += count * size
        }
        return (root, { key in
            guard let storage = storages[key] else { throw ModelFileError.malformed(format: format, reason: "storage \(key) is missing") }
            return storage
        })
    }

    /// The tensor `name`, checked to have `shape`; the error names the tensor and both shapes.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw ModelFileError.malformed(format: Self.format, reason: "no tensor '\(name)'")
        }
        guard tensor.shape == shape else {
            throw ModelFileError.malformed(format: Self.format, reason: "'\(name)' has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    /// Element size and decoder of a storage type.
    static func decoder(_ type: String) throws -> (size: Int, decode: (ArraySlice<UInt8>) -> Float) {
        func word(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        switch type {
        case "torch.FloatStorage": return (4, { Float(bitPattern: UInt32(word($0))) })
        case "torch.DoubleStorage": return (8, { Float(Double(bitPattern: word($0))) })
        case "torch.HalfStorage": return (2, { Float(Float16(bitPattern: UInt16(word($0)))) })
        case "torch.BFloat16Storage": return (2, { Float(bitPattern: UInt32(word($0)) << 16) })
        case "torch.LongStorage": return (8, { Float(Int64(bitPattern: word($0))) })
        case "torch.IntStorage": return (4, { Float(Int32(truncatingIfNeeded: word($0))) })
        case "torch.ShortStorage": return (2, { Float(Int16(truncatingIfNeeded: word($0))) })
        case "torch.CharStorage": return (1, { Float(Int8(bitPattern: $0.first!)) })
        case "torch.ByteStorage", "torch.BoolStorage": return (1, { Float($0.first!) })
        default: throw ModelFileError.unsupported(format: format, reason: "storage type \(type)")
        }
    }

    /// Most elements a tensor may have beyond its storage's (a broadcast view): 16 M, 64 MB as Float32.
    static let broadcastLimit = 1 << 24

    /// Reads a strided view of a storage into a contiguous Float32 tensor, checking every index.
    static func gather(_ stored: RestrictedUnpickler.StoredTensor, from storage: [UInt8], name: String) throws -> Tensor {
        let (size, decode) = try decoder(stored.storageType)
        let elements = storage.count / size
        guard let count = CheckedSize.elementCount(stored.shape) else {
            throw ModelFileError.malformed(format: format, reason: "tensor '\(name)' has an impossible shape \(stored.shape)")
        }
        if count == 0 { return Tensor(shape: stored.shape, scalars: []) }
        // A state_dict's tensors are views on their own storage; a broadcast view (stride 0) may repeat it, up
        // to `broadcastLimit` elements, so that a few bytes cannot ask for terabytes.
        guard count <= max(elements, broadcastLimit) else {
            throw ModelFileError.malformed(format: format, reason: "tensor '\(name)' has \(count) elements on a storage of \(elements)")
        }
        var last: Int? = stored.offset
        for (extent, stride) in zip(stored.shape, stored.strides) { last = last.flatMap { CheckedSize.multiplyAdd(extent - 1, stride, $0) } }
        guard stored.offset >= 0, let last, last < elements else {
            throw ModelFileError.malformed(format: format, reason: "tensor '\(name)' reaches past its storage")
        }
        var contiguous = [Int](repeating: 1, count: stored.shape.count)
        for axis in stride(from: stored.shape.count - 2, through: 0, by: -1) { contiguous[axis] = contiguous[axis + 1] * stored.shape[axis + 1] }
        if stored.storageType == "torch.FloatStorage" && zip(stored.shape, zip(stored.strides, contiguous)).allSatisfy({ $0.0 == 1 || $0.1.0 == $0.1.1 }) {
            // The common case: contiguous little-endian float32, copied without per-element decoding.
            let values = storage.withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: (stored.offset + $0) * 4, as: UInt32.self))) }
            }
            return Tensor(shape: stored.shape, scalars: values)
        }
        var values = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: stored.shape.count)
        var source = stored.offset
        for destination in 0..<count {
            values[destination] = decode(storage[(source * size)..<(source * size + size)])
            var axis = stored.shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                source += stored.strides[axis]
                if index[axis] < stored.shape[axis] { break }
                source -= stored.strides[axis] * stored.shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: stored.shape, scalars: values)
    }
}
