import Foundation
import ZIPFoundation

/// NumPy `.npz` archives (`np.savez`, `np.savez_compressed`): a zip of `.npy` files.
public enum NPZ {
    /// Reads every array, by name without the `.npy` suffix.
    public static func read(path: String) throws -> [String: NPYArray] {
        guard let contents = FileManager.default.contents(atPath: path) else { throw NPYError.io("cannot read '\(path)'") }
        let archive: Archive
        do {
            try ZipDirectoryCheck.validate([UInt8](contents))
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw NPYError.io("'\(path)' is not a .npz (zip) archive (\(error))")
        }
        var arrays: [String: NPYArray] = [:]
        for entry in archive where entry.path.hasSuffix(".npy") {
            guard entry.uncompressedSize < 1 << 34 else { throw NPYError.io("'\(path)': \(entry.path) is too large") }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            } catch {
                throw NPYError.io("'\(path)': cannot read \(entry.path): \(error)")
            }
            do {
                arrays[String(entry.path.dropLast(4))] = try NPY.decode([UInt8](data))
            } catch let error as NPYError {
                throw NPYError.io("'\(path)': \(entry.path): \(error.description)")
            }
        }
        return arrays
    }
}
