import Foundation
import NetCore
import Platform

/// Errors from reading or writing NumPy `.npy` files; each description is one line.
public enum NPYError: Error, CustomStringConvertible, Equatable {
    case notNPY(String)
    case malformedHeader(String)
    case fortranOrder
    case unsupportedDType(String)
    case truncated(expectedBytes: Int, actualBytes: Int)
    case io(String)

    public var description: String {
        switch self {
        case .notNPY(let why): return "not a NumPy .npy file: \(why)"
        case .malformedHeader(let why): return "malformed .npy header: \(why)"
        case .fortranOrder: return ".npy array is in Fortran order; save it with C order (np.ascontiguousarray)"
        case .unsupportedDType(let descr):
            return ".npy dtype '\(descr)' is not supported (use float32, float64, int32, int64 or uint8, little-endian)"
        case .truncated(let expected, let actual):
            return ".npy data is truncated: expected \(expected) bytes, found \(actual)"
        case .io(let why): return why
        }
    }
}

/// Element types the `.npy` reader and writer support (little-endian).
public enum NPYDType: String, Sendable, CaseIterable {
    case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8", uint8 = "|u1"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8: return 1
        }
    }

    init(descr: String) throws {
        switch descr {
        case "<f4", "=f4": self = .float32
        case "<f8", "=f8": self = .float64
        case "<i4", "=i4": self = .int32
        case "<i8", "=i8": self = .int64
        case "|u1", "<u1", "=u1", "u1": self = .uint8
        default: throw NPYError.unsupportedDType(descr)
        }
    }
}

/// An n-dimensional array as stored in a `.npy` file: shape, dtype and raw little-endian bytes (C order).
public struct NPYArray: Sendable, Equatable {
    public let shape: [Int]
    public let dtype: NPYDType
    /// Raw element bytes, `shape.product × dtype.size` of them.
    public let bytes: [UInt8]

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Wraps raw bytes; their count must equal `shape.product × dtype.size`.
    public init(shape: [Int], dtype: NPYDType, bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "byte count does not match shape and dtype")
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
    }

    /// An array holding `values` of a fixed-width numeric type.
    public init<T: FixedWidthInteger>(shape: [Int], integers values: [T], dtype: NPYDType) {
        precondition(T.bitWidth / 8 == dtype.size)
        self.init(shape: shape, dtype: dtype, bytes: values.map { $0.littleEndian }.withUnsafeBytes { Array($0) })
    }

    /// A float32 array.
    public init(shape: [Int], float32 values: [Float]) {
        self.init(shape: shape, dtype: .float32, bytes: values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) })
    }

    /// A float64 array.
    public init(shape: [Int], float64 values: [Double]) {
        self.init(shape: shape, dtype: .float64, bytes: values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) })
    }

    /// A float32 array holding a tensor.
    public init(_ tensor: Tensor) { self.init(shape: tensor.shape, float32: tensor.scalars) }

    private func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        return (0..<count).map { i in
            var value: T = 0
            for b in 0..<size { value |= T(truncatingIfNeeded: bytes[i * size + b]) << (8 * b) }
            return value
        }
    }

    /// The elements converted to Double (exact for every supported dtype except large int64).
    public var doubles: [Double] {
        switch dtype {
        case .float32: return load(UInt32.self).map { Double(Float(bitPattern: $0)) }
        case .float64: return load(UInt64.self).map { Double(bitPattern: $0) }
        case .int32: return load(Int32.self).map(Double.init)
        case .int64: return load(Int64.self).map(Double.init)
        case .uint8: return bytes.map(Double.init)
        }
    }

    /// The elements as Float32.
    public var floats: [Float] {
        dtype == .float32 ? load(UInt32.self).map { Float(bitPattern: $0) } : doubles.map { Float($0) }
    }

    /// The elements as Int64 (floats are truncated toward zero).
    public var integers: [Int64] {
        switch dtype {
        case .int32: return load(Int32.self).map(Int64.init)
        case .int64: return load(Int64.self)
        case .uint8: return bytes.map(Int64.init)
        case .float32, .float64: return doubles.map { Int64($0) }
        }
    }

    /// The array as a Float32 tensor of the same shape.
    public var tensor: Tensor { Tensor(shape: shape, scalars: floats) }
}

/// Reads and writes NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Parses `.npy` bytes; every length is checked against the data.
    public static func decode(_ data: [UInt8]) throws -> NPYArray {
        guard data.count >= 10, Array(data[0..<6]) == magic else {
            throw NPYError.notNPY("missing the \\x93NUMPY magic")
        }
        let major = data[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw NPYError.notNPY("file ends inside the preamble") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw NPYError.notNPY("unsupported format version \(major)")
        }
        guard headerLength <= data.count - headerStart else {
            throw NPYError.malformedHeader("header length \(headerLength) runs past the end of the file")
        }
        guard let header = String(bytes: data[headerStart..<headerStart + headerLength], encoding: .utf8) else {
            throw NPYError.malformedHeader("header is not text")
        }
        let (descr, fortran, shape) = try parseHeader(header)
        if fortran { throw NPYError.fortranOrder }
        let dtype = try NPYDType(descr: descr)
        guard let count = CheckedSize.elementCount(shape), count <= Int(Int32.max) * 16 else {
            throw NPYError.malformedHeader("shape \(shape) is too large")
        }
        let dataStart = headerStart + headerLength
        let expected = count * dtype.size
        let actual = data.count - dataStart
        guard actual >= expected else { throw NPYError.truncated(expectedBytes: expected, actualBytes: actual) }
        return NPYArray(shape: shape, dtype: dtype, bytes: Array(data[dataStart..<dataStart + expected]))
    }

    /// Encodes `array` as a version 1.0 `.npy` file (header padded to 64 bytes as NumPy does).
    public static func encode(_ array: NPYArray) -> [UInt8] { header(shape: array.shape, dtype: array.dtype) + array.bytes }

    /// The magic, version and header of a `.npy` file of `shape` and `dtype`: what precedes its data.
    static func header(shape: [Int], dtype: NPYDType) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
    }

    /// Reads a `.npy` file.
    public static func read(path: String) throws -> NPYArray {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw NPYError.io(error.description)
        }
        do {
            return try decode(bytes)
        } catch let error as NPYError {
            throw NPYError.io("'\(path)': \(error.description)")
        }
    }

    /// Writes a `.npy` file through ``OutputFile`` (a failed write leaves any existing file untouched).
    public static func write(_ array: NPYArray, path: String) throws {
        do {
            try OutputFile.write(encode(array), to: path)
        } catch let refusal as OutputFile.Refusal {
            throw NPYError.io(refusal.description)
        }
    }

    /// Parses the header dictionary: `{'descr': …, 'fortran_order': …, 'shape': (…), }`.
    static func parseHeader(_ header: String) throws -> (String, Bool, [Int]) {
        func value(after key: String) throws -> Substring {
            guard let range = header.range(of: "'\(key)':") else { throw NPYError.malformedHeader("no '\(key)' key") }
            return header[range.upperBound...].drop { $0 == " " }
        }
        let descrText = try value(after: "descr")
        guard descrText.first == "'", let close = descrText.dropFirst().firstIndex(of: "'") else {
            throw NPYError.malformedHeader("'descr' is not a simple dtype string")
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<close])
        let fortranText = try value(after: "fortran_order")
        let fortran: Bool
        if fortranText.hasPrefix("False") { fortran = false } else if fortranText.hasPrefix("True") { fortran = true } else {
            throw NPYError.malformedHeader("'fortran_order' is not True or False")
        }
        let shapeText = try value(after: "shape")
        guard shapeText.first == "(", let end = shapeText.firstIndex(of: ")") else {
            throw NPYError.malformedHeader("'shape' is not a tuple")
        }
        let inner = shapeText[shapeText.index(after: shapeText.startIndex)..<end]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dimension = Int(trimmed.hasSuffix("L") ? String(trimmed.dropLast()) : trimmed), dimension >= 0 else {
                throw NPYError.malformedHeader("shape entry '\(trimmed)' is not a non-negative integer")
            }
            shape.append(dimension)
        }
        return (descr, fortran, shape)
    }
}
