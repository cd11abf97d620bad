/// Checks a zip archive's directory before ZIPFoundation reads it.
///
/// ZIPFoundation converts offsets read from the file to `off_t` with a trapping conversion, so a corrupted or
/// hostile archive whose ZIP64 fields hold offsets above `Int64.max` crashed the process (found by the
/// randomized corruption test). This check walks the same records ZIPFoundation will — the end-of-directory
/// record, the ZIP64 record just before it, every central-directory entry and its local header — and
/// requires every offset and compressed size it would use to lie inside the file, and no two entries' data to
/// overlap (the "non-recursive zip bomb" inflates one compressed block once per entry that points at it).
public enum ZipDirectoryCheck {
    /// Throws a one-line reason when `bytes` (a whole archive) has a record pointing outside itself.
    public static func validate(_ bytes: [UInt8]) throws(ZipDirectoryError) {
        let size = UInt64(bytes.count)
        func u16(_ at: UInt64) -> UInt64 { UInt64(bytes[Int(at)]) | UInt64(bytes[Int(at) + 1]) << 8 }
        func u32(_ at: UInt64) -> UInt64 { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: UInt64) -> UInt64 { u32(at) | u32(at + 4) << 32 }
        func inside(_ offset: UInt64, _ length: UInt64) -> Bool { offset <= size && length <= size - offset }
        // The ZIP64 extra fields (id 1) of an extra-field block: every 8-byte value in them must be a plausible
        // size or offset (≤ 1 TB) whichever way ZIPFoundation reads it. Returns the fields' bodies.
        func zip64Fields(from start: UInt64, length: UInt64) throws(ZipDirectoryError) -> [(body: UInt64, length: UInt64)] {
            var fields: [(UInt64, UInt64)] = [], field = start
            while field + 4 <= start + length {
                let id = u16(field), bodyLength = u16(field + 2)
                guard field + 4 + bodyLength <= start + length else { break }
                if id == 0x0001 {
                    for at in stride(from: field + 4, to: field + 4 + bodyLength - bodyLength % 8, by: 8) where u64(at) > 1 << 40 {
                        throw ZipDirectoryError("ZIP64 field out of range")
                    }
                    fields.append((field + 4, bodyLength))
                }
                field += 4 + bodyLength
            }
            return fields
        }

        // End of central directory: the last signature at least 22 bytes from the end (ZIPFoundation's scan).
        guard size >= 22, let end = stride(from: Int(size) - 22, through: 0, by: -1).first(where: { u32(UInt64($0)) == 0x0605_4B50 })
        else { throw ZipDirectoryError("no end-of-central-directory record") }
        let eocd = UInt64(end)
        var entries = u16(eocd + 10), directorySize = u32(eocd + 12), directoryOffset = u32(eocd + 16)
        // ZIP64: a locator (20 bytes) and a record (56 bytes, version needed ≥ 4.5) right before the end record.
        if eocd > 20 + 56, u32(eocd - 20) == 0x0706_4B50, u32(eocd - 76) == 0x0606_4B50, u16(eocd - 76 + 14) >= 45 {
            entries = u64(eocd - 76 + 32)
            directorySize = u64(eocd - 76 + 40)
            directoryOffset = u64(eocd - 76 + 48)
        }
        guard inside(directoryOffset, directorySize) else { throw ZipDirectoryError("central directory outside the file") }
        guard entries <= directorySize / 46 else { throw ZipDirectoryError("\(entries) entries cannot fit the central directory") }

        var record = directoryOffset
        var spans: [(start: UInt64, end: UInt64)] = []
        for _ in 0..<entries {
            guard inside(record, 46), u32(record) == 0x0201_4B50 else { break }  // ZIPFoundation stops here too
            let compressed32 = u32(record + 20), uncompressed32 = u32(record + 24), disk16 = u16(record + 34)
            let nameLength = u16(record + 28), extraLength = u16(record + 30), commentLength = u16(record + 32)
            let localOffset32 = u32(record + 42)
            guard inside(record + 46, nameLength + extraLength + commentLength) else { throw ZipDirectoryError("entry outside the file") }
            var compressed = compressed32, localOffset = localOffset32
            // ZIP64 extended information: the 64-bit values of the 32-bit fields set to all ones, in order.
            let wanted = [uncompressed32 == 0xFFFF_FFFF, compressed32 == 0xFFFF_FFFF, localOffset32 == 0xFFFF_FFFF]
            let expectedLength = UInt64(wanted.filter { $0 }.count * 8 + (disk16 == 0xFFFF ? 4 : 0))
            if let zip64 = try zip64Fields(from: record + 46 + nameLength, length: extraLength).first, zip64.length == expectedLength {
                var at = zip64.body
                if wanted[0] { at += 8 }
                if wanted[1] { let value = u64(at); at += 8; if value > 0 { compressed = value } }
                if wanted[2] { let value = u64(at); if value > 0 { localOffset = value } }
            }
            guard inside(localOffset, 30), u32(localOffset) == 0x0403_4B50 else { throw ZipDirectoryError("local header outside the file") }
            let localName = u16(localOffset + 26), localExtra = u16(localOffset + 28), localCompressed = u32(localOffset + 18)
            let dataOffset = localOffset + 30 + localName + localExtra
            guard inside(dataOffset, compressed) else { throw ZipDirectoryError("entry data outside the file") }
            // ZIPFoundation reads a symbolic link's data by the local header's size, in one allocation.
            guard localCompressed == 0xFFFF_FFFF || inside(dataOffset, localCompressed) else {
                throw ZipDirectoryError("local header size outside the file")
            }
            _ = try zip64Fields(from: localOffset + 30 + localName, length: localExtra)
            spans.append((localOffset, dataOffset + compressed))
            record += 46 + nameLength + extraLength + commentLength
        }
        spans.sort { $0.start < $1.start }
        for (earlier, later) in zip(spans, spans.dropFirst()) where later.start < earlier.end {
            throw ZipDirectoryError("two entries share their data (a zip bomb's overlapping entries)")
        }
    }
}

/// Why an archive's directory was refused.
public struct ZipDirectoryError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
