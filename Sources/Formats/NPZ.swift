import Foundation
import ZIPFoundation
import Platform

/// NumPy `.npz` archives (`np.savez`, `np.savez_compressed`): a zip of `.npy` files.
public enum NPZ {
    /// Reads every array, by name without the `.npy` suffix.
    public static func read(path: String) throws -> [String: NPYArray] {
        let contents: [UInt8]
        do {
            contents = try RegularFile.read(path)
        } catch {
            throw NPYError.io(error.description)
        }
        let archive: Archive
        do {
            try ZipDirectoryCheck.validate(contents)
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw NPYError.io("'\(path)' is not a .npz (zip) archive (\(error))")
        }
        var arrays: [String: NPYArray] = [:]
        for entry in archive where entry.path.hasSuffix(".npy") {
            let data: [UInt8]
            do {
                data = try ZipEntryReader.read(entry, of: archive, archiveSize: contents.count)
            } catch {
                throw NPYError.io("'\(path)': \(error)")
            }
            do {
                arrays[String(entry.path.dropLast(4))] = try NPY.decode(data)
            } catch let error as NPYError {
                throw NPYError.io("'\(path)': \(entry.path): \(error.description)")
            }
        }
        return arrays
    }
}
