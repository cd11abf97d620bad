import Foundation
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// Checks a weight file against its manifest SHA-256 before its first use after it changed.
///
/// A verified file's size, modification time, device and inode are remembered in `.verified` in the cache,
/// so a file is hashed again only when one of them changes (or where no cache can be written).
struct WeightVerification {
    /// Where the records live; nil when there is no writable cache (then every use hashes the file).
    let recordFile: String?

    struct Record: Codable, Equatable {
        var size: Int64, modified: Int64, device: UInt64, inode: UInt64, sha256: String
    }

    /// Throws ``WeightError/checksumMismatch(file:path:expected:actual:)`` unless `path` hashes to `expected`.
    func check(_ file: String, at path: String, expected: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // the reader reports a vanished file
        let identity = Record(size: Int64(info.st_size), modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                              device: UInt64(info.st_dev), inode: UInt64(info.st_ino), sha256: expected)
        var records = load()
        if records[path] == identity { return }
        let actual = try WeightFetcher.sha256(path: path)
        guard actual == expected else {
            throw WeightError.checksumMismatch(file: file, path: path, expected: expected, actual: actual)
        }
        records[path] = identity
        save(records)
    }

    private func load() -> [String: Record] {
        guard let recordFile, let bytes = try? RegularFile.read(recordFile, limit: 1 << 24) else { return [:] }
        return (try? JSONDecoder().decode([String: Record].self, from: Data(bytes))) ?? [:]
    }

    private func save(_ records: [String: Record]) {
        guard let recordFile, let data = try? JSONEncoder().encode(records) else { return }
        try? OutputFile.write(Array(data), to: recordFile)  // best effort: an unwritable cache only costs a re-hash
    }
}
