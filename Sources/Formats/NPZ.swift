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

    /// Writes `arrays` as `np.savez` does (each `NAME.npy` stored uncompressed, in the order given) through
    /// ``OutputFile`` (a failed write leaves any existing file untouched).
    public static func write(_ arrays: KeyValuePairs<String, NPYArray>, path: String) throws {
        let bytes: Data
        do {
            let archive = try Archive(accessMode: .create)
            for (name, array) in arrays {
                let encoded = Data(NPY.encode(array))
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(encoded.count),
                                     modificationDate: Date(timeIntervalSince1970: 315_532_800)) { position, size in  // 1980-01-01, zip's epoch
                    encoded.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            bytes = archive.data ?? Data()
        } catch {
            throw NPYError.io("cannot build the archive '\(path)': \(error)")
        }
        do {
            try OutputFile.write([UInt8](bytes), to: path)
        } catch let refusal as OutputFile.Refusal {
            throw NPYError.io(refusal.description)
        }
    }
}
