import Formats
import Foundation
import TestSupport
import Testing

/// A stored (uncompressed) zip archive with one entry, built byte by byte. With `zip64Offset`, the central
/// directory gives the local header's offset as all ones plus a ZIP64 extra field holding `zip64Offset`;
/// `prefix` bytes come before the local header (so a true offset of `prefix` is not zero).
func storedZip(name: String, data: [UInt8], prefix: Int = 0, zip64Offset: UInt64? = nil) -> [UInt8] {
    func le(_ value: UInt64, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    let crc = data.reduce(UInt32(0xFFFF_FFFF)) { crc, byte in
        (0..<8).reduce(crc ^ UInt32(byte)) { c, _ in c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    } ^ 0xFFFF_FFFF
    let nameBytes = Array(name.utf8), size = UInt64(data.count)
    var archive = [UInt8](repeating: 0, count: prefix)
    archive += le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(UInt64(crc), 4) + le(size, 4) + le(size, 4)
    archive += le(UInt64(nameBytes.count), 2) + le(0, 2) + nameBytes + data
    let directoryOffset = UInt64(archive.count)
    let extra = zip64Offset.map { le(0x0001, 2) + le(8, 2) + le($0, 8) } ?? []
    archive += le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(UInt64(crc), 4) + le(size, 4) + le(size, 4)
    archive += le(UInt64(nameBytes.count), 2) + le(UInt64(extra.count), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
    archive += le(zip64Offset == nil ? UInt64(prefix) : 0xFFFF_FFFF, 4) + nameBytes + extra
    let directorySize = UInt64(archive.count) - directoryOffset
    archive += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(directorySize, 4) + le(directoryOffset, 4) + le(0, 2)
    return archive
}

@Suite struct ZipDirectoryTests {
    let directory = TestSupport.temporaryDirectory()
    let npy = NPY.encode(NPYArray(shape: [3], float32: [1, 2, 3]))

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// ZIPFoundation would convert this offset to off_t and trap; the check refuses it with a message instead.
    @Test func aZIP64OffsetBeyondTheFileIsRefusedWithoutCrashing() throws {
        let hostile = storedZip(name: "x.npy", data: npy, zip64Offset: 0xFFFF_FFFF_FFFF_0000)
        #expect(throws: ZipDirectoryError.self) { try ZipDirectoryCheck.validate(hostile) }
        #expect(throws: (any Error).self) { try NPZ.read(path: try write(hostile, "hostile.npz")) }
        #expect(throws: (any Error).self) { try PyTorchStateDict(path: try write(hostile, "hostile.pth")) }
    }

    @Test func archivesWithZIP64RecordsAreRead() throws {
        // ZIP64 in the central directory (a true offset of 4, given in the extra field).
        let central = try NPZ.read(path: try write(storedZip(name: "x.npy", data: npy, prefix: 4, zip64Offset: 4), "central.npz"))
        #expect(central["x"]?.floats == [1, 2, 3])
        // ZIP64 in the local headers, deflated: written by Python's zipfile (Tests/Reference/make_zip_fixtures.py).
        let local = try NPZ.read(path: TestSupport.fixture("zip/zip64.npz"))
        #expect(local["ramp"]?.floats == (0..<12).map(Float.init) && local["ones"]?.shape == [5])
        try ZipDirectoryCheck.validate([UInt8](try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("vggish/importer.pth")))))
    }

    @Test func truncatedOrMisplacedDirectoriesAreRefused() throws {
        let good = storedZip(name: "x.npy", data: npy)
        try ZipDirectoryCheck.validate(good)
        #expect(throws: ZipDirectoryError.self) { try ZipDirectoryCheck.validate(Array(good.prefix(good.count - 23))) }
        var moved = good
        moved[moved.count - 6] = 0xF0  // the directory offset now points past the end
        #expect(throws: ZipDirectoryError.self) { try ZipDirectoryCheck.validate(moved) }
    }
}
