import Formats
import Foundation
import TestSupport
import Testing

/// `.npy` files written row by row: the file read back is the rows in order, under a header counting them, and
/// nothing reaches the path before ``NPYRowWriter/finish()``.
@Suite struct NPYRowWriterTests {
    let folder = TestSupport.temporaryDirectory()

    @Test func rowsAppendedInPiecesReadBackAsOneArray() throws {
        let path = folder.appendingPathComponent("rows.npy").path
        var generator = SeededGenerator(seed: 7)
        let values = generator.floats(3 * 300_001, in: -1...1)  // more than one megabyte: read back in several chunks
        let writer = try NPYRowWriter(path: path, rowShape: [3])
        for start in stride(from: 0, to: values.count, by: 3 * 1_000) { try writer.append(Array(values[start..<min(start + 3_000, values.count)])) }
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.finish()
        let array = try NPY.read(path: path)
        #expect(array.shape == [300_001, 3] && array.tensor.scalars == values)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["rows.npy"])
    }

    @Test func noRowsWriteAnEmptyArrayOfTheRowShape() throws {
        let path = folder.appendingPathComponent("empty.npy").path
        try NPYRowWriter(path: path, rowShape: [2, 5]).finish()
        #expect(try NPY.read(path: path).shape == [0, 2, 5])
    }

    @Test func aWriterNeverFinishedLeavesTheExistingFileAsItWas() throws {
        let path = folder.appendingPathComponent("kept.npy").path
        try NPY.write(NPYArray(shape: [1], float32: [42]), path: path)
        do {
            let writer = try NPYRowWriter(path: path, rowShape: [1])
            try writer.append([1, 2, 3])
        }
        #expect(try NPY.read(path: path).tensor.scalars == [42])
    }
}
