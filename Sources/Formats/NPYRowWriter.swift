import Foundation
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// A float32 `.npy` file of rows written as they come (`[N, …rowShape]`, N counted as they are appended): the rows
/// wait in an unlinked temporary file beside the output until ``finish()`` writes the header and them through
/// ``OutputFile``, so memory holds none of them however many there are.
public final class NPYRowWriter {
    public let path: String
    public let rowShape: [Int]
    /// Rows appended so far.
    public private(set) var rowCount = 0
    private let descriptor: Int32
    private let rowSize: Int

    /// Starts `path` (nothing is written there until ``finish()``).
    public init(path: String, rowShape: [Int]) throws {
        self.path = path
        self.rowShape = rowShape
        rowSize = rowShape.reduce(1, *)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var template = Array("\(folder)/.\(URL(fileURLWithPath: path).lastPathComponent).rows.XXXXXX".utf8CString)
        descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw NPYError.io("cannot write '\(path)': \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    deinit { close(descriptor) }

    /// Appends whole rows (`rowShape` values each), in order.
    public func append(_ values: [Float]) throws {
        precondition(rowSize > 0 && values.count % rowSize == 0, "\(values.count) values are not whole rows of \(rowShape)")
        if let code = values.withUnsafeBytes({ OutputFile.writeAll(descriptor, Array($0)) }) {
            throw NPYError.io("cannot write '\(path)': \(String(cString: strerror(code)))")
        }
        rowCount += values.count / rowSize
    }

    /// Writes the file: its header for the rows appended, then the rows, read back a megabyte at a time.
    public func finish() throws {
        let total = rowCount * rowSize * 4
        do {
            try OutputFile.write(to: path) { append in
                try append(NPY.header(shape: [rowCount] + rowShape, dtype: .float32))
                var chunk = [UInt8](repeating: 0, count: 1 << 20), offset = 0
                while offset < total {
                    let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, min($0.count, total - offset), off_t(offset)) }
                    guard read > 0 else { throw NPYError.io("cannot read back the rows of '\(path)': \(String(cString: strerror(errno)))") }
                    try append(Array(chunk[0..<read]))
                    offset += read
                }
            }
        } catch let refusal as OutputFile.Refusal {
            throw NPYError.io(refusal.description)
        }
    }
}
