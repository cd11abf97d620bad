import Foundation
import ZIPFoundation

/// Inflates one zip entry with its size measured on the bytes actually inflated: an entry that inflates past
/// the size its directory record declares (a zip bomb lying about its size) is stopped at that point, and no
/// entry may declare more than ``maximumSize`` or more than deflate's largest ratio allows.
enum ZipEntryReader {
    /// Largest entry read: 16 GiB (VGG-19's weights are 0.55 GB).
    static let maximumSize: UInt64 = 1 << 34
    /// Deflate cannot expand data more than 1032:1 (a 258-byte match per 2 bits); larger claims are forged.
    static let largestRatio: UInt64 = 1032

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The inflated bytes of `entry` of `archive`, a file of `archiveSize` bytes.
    static func read(_ entry: Entry, of archive: Archive, archiveSize: Int) throws -> [UInt8] {
        // The compressed data lies inside the file (ZipDirectoryCheck), whatever a header says.
        guard entry.type == .file else { throw Failure(description: "\(entry.path) is not a file (a \(entry.type) entry)") }
        let declared = entry.uncompressedSize, compressed = min(entry.compressedSize, UInt64(archiveSize))
        guard declared <= maximumSize else { throw Failure(description: "\(entry.path) declares \(declared) bytes, over the 16 GiB limit") }
        guard declared <= max(compressed, 1) * largestRatio else {
            throw Failure(description: "\(entry.path) declares \(declared) bytes from \(compressed) compressed: more than deflate can inflate")
        }
        final class Sink: @unchecked Sendable { var bytes: [UInt8] = [] }
        let sink = Sink()
        sink.bytes.reserveCapacity(Int(min(declared, 1 << 26)))  // a claim; what is inflated grows the buffer
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard UInt64(sink.bytes.count + chunk.count) <= declared else {
                    throw Failure(description: "\(entry.path) inflates past the \(declared) bytes it declares")
                }
                sink.bytes.append(contentsOf: chunk)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "cannot read \(entry.path): \(error)")
        }
        guard UInt64(sink.bytes.count) == declared else {
            throw Failure(description: "\(entry.path) inflates to \(sink.bytes.count) bytes, not the \(declared) it declares")
        }
        return sink.bytes
    }
}
