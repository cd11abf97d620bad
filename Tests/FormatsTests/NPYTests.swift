import Formats
import Foundation
import TestSupport
import Testing

@Suite struct NPYTests {
    @Test func everyDTypeRoundTrips() throws {
        let arrays = [
            NPYArray(shape: [2, 3], float32: [0, 1.5, -2, .pi, 1e-30, -7]),
            NPYArray(shape: [3], float64: [1.0 / 3, -2e300, 0]),
            NPYArray(shape: [2, 2], integers: [Int32.min, -1, 0, Int32.max], dtype: .int32),
            NPYArray(shape: [2], integers: [Int64.min, Int64.max], dtype: .int64),
            NPYArray(shape: [1, 4], integers: [UInt8(0), 1, 128, 255], dtype: .uint8),
            NPYArray(shape: [], float32: [42]),
            NPYArray(shape: [0, 64], float32: []),
        ]
        let directory = TestSupport.temporaryDirectory()
        for (index, array) in arrays.enumerated() {
            let path = directory.appendingPathComponent("a\(index).npy").path
            try NPY.write(array, path: path)
            #expect(try NPY.read(path: path) == array)
            #expect(NPY.encode(array).count % 64 == array.bytes.count % 64, "header padded to 64 bytes")
        }
    }

    @Test func readsWhatNumPyWrote() throws {
        // Written by numpy.save in Tests/Reference/make_frontend_fixtures.py.
        let array = try NPY.read(path: TestSupport.fixture("frontend/tone.yamnet.npy"))
        #expect(array.shape == [3, 96, 64] && array.dtype == .float32)
        #expect(array.floats.allSatisfy { $0.isFinite })
    }

    func header(_ dictionary: String) -> [UInt8] {
        let text = dictionary + "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0] + Array(text.utf8)
    }

    @Test func fortranOrderIsRejected() {
        let data = header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }") + [0, 0, 0, 0]
        #expect(throws: NPYError.fortranOrder) { try NPY.decode(data) }
    }

    @Test func unknownDTypeIsRejected() {
        let data = header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0]
        #expect(throws: NPYError.unsupportedDType(">f4")) { try NPY.decode(data) }
    }

    @Test func truncatedDataIsRejected() {
        let data = header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }") + [0, 0, 0, 0]
        #expect(throws: NPYError.truncated(expectedBytes: 16, actualBytes: 4)) { try NPY.decode(data) }
    }

    @Test func malformedHeadersAreRejected() {
        #expect(throws: NPYError.self) { try NPY.decode(Array("not numpy".utf8)) }
        #expect(throws: NPYError.self) { try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }")) }
        #expect(throws: NPYError.self) { try NPY.decode(header("{'descr': '<f4', 'shape': (1,), }")) }
        #expect(throws: NPYError.self) {
            try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (9999999999, 9999999999), }"))
        }
        var lying = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }")
        lying[8] = 0xFF  // header length beyond the file
        #expect(throws: NPYError.self) { try NPY.decode(lying) }
    }
}
