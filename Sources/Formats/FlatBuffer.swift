/// Errors from parsing untrusted binary model files; each description is one line.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case malformed(format: String, reason: String)
    case unsupported(format: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let format, let reason): return "malformed \(format) file: \(reason)"
        case .unsupported(let format, let reason): return "unsupported \(format) file: \(reason)"
        }
    }
}

/// A bounds-checked reader of FlatBuffers tables, vectors and strings over untrusted bytes.
///
/// Every offset is checked against the buffer before it is followed, so a malformed file raises
/// ``ModelFileError`` instead of reading out of bounds.
struct FlatBuffer {
    let bytes: [UInt8]
    let format: String

    func fail(_ reason: String) -> ModelFileError { .malformed(format: format, reason: reason) }

    func check(_ position: Int, _ size: Int) throws {
        guard position >= 0, size >= 0, position <= bytes.count - size else {
            throw fail("offset \(position)+\(size) is outside the \(bytes.count)-byte file")
        }
    }

    func uint8(_ p: Int) throws -> UInt8 { try check(p, 1); return bytes[p] }
    func uint16(_ p: Int) throws -> UInt16 { try check(p, 2); return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 }
    func uint32(_ p: Int) throws -> UInt32 {
        try check(p, 4)
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }
    func int32(_ p: Int) throws -> Int32 { Int32(bitPattern: try uint32(p)) }
    func uint64(_ p: Int) throws -> UInt64 { UInt64(try uint32(p)) | UInt64(try uint32(p + 4)) << 32 }
    func float32(_ p: Int) throws -> Float { Float(bitPattern: try uint32(p)) }

    /// The root table's position.
    func root() throws -> Table { Table(buffer: self, position: Int(try uint32(0))) }

    /// A table: fields located through its vtable.
    struct Table {
        let buffer: FlatBuffer
        let position: Int

        /// Position of field `index`, or nil when absent.
        func field(_ index: Int) throws -> Int? {
            let vtable = position - Int(try buffer.int32(position))
            let vtableSize = Int(try buffer.uint16(vtable))
            guard vtableSize >= 4, vtableSize % 2 == 0 else { throw buffer.fail("vtable size \(vtableSize) at \(vtable)") }
            let entry = 4 + 2 * index
            guard entry < vtableSize else { return nil }
            let offset = Int(try buffer.uint16(vtable + entry))
            return offset == 0 ? nil : position + offset
        }

        func int(_ index: Int, default value: Int = 0) throws -> Int {
            guard let p = try field(index) else { return value }
            return Int(try buffer.int32(p))
        }
        func uint32(_ index: Int, default value: UInt32 = 0) throws -> UInt32 {
            guard let p = try field(index) else { return value }
            return try buffer.uint32(p)
        }
        func uint8(_ index: Int, default value: UInt8 = 0) throws -> UInt8 {
            guard let p = try field(index) else { return value }
            return try buffer.uint8(p)
        }
        func uint64(_ index: Int, default value: UInt64 = 0) throws -> UInt64 {
            guard let p = try field(index) else { return value }
            return try buffer.uint64(p)
        }

        /// Follows the offset stored at field `index`.
        func indirect(_ index: Int) throws -> Int? {
            guard let p = try field(index) else { return nil }
            let target = p + Int(try buffer.uint32(p))
            try buffer.check(target, 4)
            return target
        }

        func table(_ index: Int) throws -> Table? {
            guard let target = try indirect(index) else { return nil }
            return Table(buffer: buffer, position: target)
        }

        /// A vector's element count and first element position, checked to fit `elementSize`-byte elements.
        func vector(_ index: Int, elementSize: Int) throws -> (count: Int, start: Int)? {
            guard let target = try indirect(index) else { return nil }
            let count = Int(try buffer.uint32(target))
            let (size, overflow) = count.multipliedReportingOverflow(by: elementSize)
            guard !overflow else { throw buffer.fail("vector of \(count) elements") }
            try buffer.check(target + 4, size)
            return (count, target + 4)
        }

        func tables(_ index: Int) throws -> [Table] {
            guard let (count, start) = try vector(index, elementSize: 4) else { return [] }
            return try (0..<count).map { i in
                let p = start + 4 * i
                return Table(buffer: buffer, position: p + Int(try buffer.uint32(p)))
            }
        }
        func ints(_ index: Int) throws -> [Int] {
            guard let (count, start) = try vector(index, elementSize: 4) else { return [] }
            return try (0..<count).map { Int(try buffer.int32(start + 4 * $0)) }
        }
        func floats(_ index: Int) throws -> [Float] {
            guard let (count, start) = try vector(index, elementSize: 4) else { return [] }
            return try (0..<count).map { try buffer.float32(start + 4 * $0) }
        }
        func int64s(_ index: Int) throws -> [Int64] {
            guard let (count, start) = try vector(index, elementSize: 8) else { return [] }
            return try (0..<count).map { Int64(bitPattern: try buffer.uint64(start + 8 * $0)) }
        }
        func byteRange(_ index: Int) throws -> Range<Int>? {
            guard let (count, start) = try vector(index, elementSize: 1) else { return nil }
            return start..<start + count
        }
        func string(_ index: Int) throws -> String {
            guard let range = try byteRange(index) else { return "" }
            return String(decoding: buffer.bytes[range], as: UTF8.self)
        }
    }
}
