import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing a command's output files without losing data.
///
/// An output that is one of the inputs (the same file, however reached) is refused before any work. A regular
/// file is written to a temporary file beside it and renamed over it only when complete, keeping its mode
/// and owner; a file with several hard links, a device or a FIFO is written in place (a rename would break
/// the links or replace the device node).
public enum OutputFile {
    /// Why an output cannot be written; one line.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Throws when an existing `output` is the same file (device and inode) as any of `inputs`, through links
    /// or not, or when two outputs name one file.
    public static func checkDistinct(outputs: [String], inputs: [String]) throws {
        let inputIdentities = inputs.compactMap { path in identity(path).map { (path, $0) } }
        var seen: [(String, FileIdentity)] = []
        for output in outputs {
            guard let id = identity(output) else { continue }
            if let input = inputIdentities.first(where: { $0.1 == id }) {
                throw Refusal(description: "'\(output)' is the input '\(input.0)'; refusing to overwrite an input (choose another output path)")
            }
            if let earlier = seen.first(where: { $0.1 == id }) {
                throw Refusal(description: "'\(output)' and '\(earlier.0)' are the same file; give each output its own path")
            }
            seen.append((output, id))
        }
        let names = outputs.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let duplicate = names.indices.first(where: { names[..<$0].contains(names[$0]) }) {
            throw Refusal(description: "'\(outputs[duplicate])' is given twice as an output")
        }
    }

    /// Writes `bytes` to `path` as described on ``OutputFile``.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { append in try append(bytes) }
    }

    /// Writes to `path` as described on ``OutputFile`` the bytes `produce` hands to `append` piece by piece, so that
    /// a long output is never held whole; when `produce` throws, an existing file of one link is left as it was.
    public static func write(to path: String, _ produce: (_ append: ([UInt8]) throws -> Void) throws -> Void) throws {
        let target = resolvedPath(path)
        var info = stat()
        if lstat(target, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFDIR: throw Refusal(description: "cannot write '\(path)': it is a directory")
            case S_IFREG where info.st_nlink <= 1: try replace(target, keeping: info, shownAs: path, produce)
            case S_IFREG, S_IFCHR, S_IFIFO: try writeInPlace(target, truncate: info.st_mode & S_IFMT == S_IFREG, shownAs: path, produce)
            default: throw Refusal(description: "cannot write '\(path)': not a regular file, device or FIFO")
            }
        } else {
            try replace(target, keeping: nil, shownAs: path, produce)
        }
    }

    /// Writes `text` as UTF-8 (see ``write(_:to:)-(([UInt8],String))``).
    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    // MARK: - Internals

    struct FileIdentity: Equatable { let device: UInt64, inode: UInt64 }

    static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// `path` with symbolic links followed (also for a link whose target does not exist yet).
    static func resolvedPath(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { return current }
            let link = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : (URL(fileURLWithPath: current).deletingLastPathComponent().path + "/" + link)
        }
        return current
    }

    static func failure(_ path: String, _ code: Int32 = errno) -> Refusal {
        Refusal(description: "cannot write '\(path)': \(String(cString: strerror(code)))")
    }

    /// Writes all of `bytes` to `descriptor`; the error number of a failed write, else nil.
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }

    /// A temporary file beside `target`, renamed over it when completely written. It has no name while it is
    /// written (Linux's `O_TMPFILE`), so a run killed meanwhile leaves nothing; it is linked under a hidden name only
    /// when whole, then renamed. Where the file system cannot make unnamed files, it is named from the start.
    static func replace(_ target: String, keeping existing: stat?, shownAs path: String,
                        _ produce: (_ append: ([UInt8]) throws -> Void) throws -> Void) throws {
        let directory = URL(fileURLWithPath: target).deletingLastPathComponent().path
        let name = URL(fileURLWithPath: target).lastPathComponent
        var temporary: String?
        var descriptor = FileManager.default.fileExists(atPath: "/proc/self/fd") ? open(directory, unnamedFile | O_WRONLY | O_CLOEXEC, 0o600) : -1
        if descriptor < 0 {
            var template = Array("\(directory)/.\(name).XXXXXX".utf8CString)
            descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard descriptor >= 0 else { throw failure(path) }
            temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var closed = false
        defer {
            if !closed { close(descriptor) }
            if let temporary { unlink(temporary) }  // a no-op after the rename
        }
        if let existing {
            fchmod(descriptor, existing.st_mode & 0o7777)
            if geteuid() == 0 { fchown(descriptor, existing.st_uid, existing.st_gid) }
        } else {
            let mask = umask(0)
            umask(mask)
            fchmod(descriptor, 0o666 & ~mask)
        }
        try produce { bytes in if let code = writeAll(descriptor, bytes) { throw failure(path, code) } }
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw failure(path) }
        if temporary == nil {
            while true {
                let candidate = "\(directory)/.\(name).\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
                if linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0 {
                    temporary = candidate
                    break
                }
                guard errno == EEXIST else { throw failure(path) }
            }
        }
        closed = true
        guard close(descriptor) == 0 else { throw failure(path) }
        guard rename(temporary!, target) == 0 else { throw failure(path) }
    }

    /// Linux's `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which Glibc's module does not import.
    static let unnamedFile: Int32 = 0o20_000_000 | O_DIRECTORY

    static func writeInPlace(_ target: String, truncate: Bool, shownAs path: String,
                             _ produce: (_ append: ([UInt8]) throws -> Void) throws -> Void) throws {
        let descriptor = open(target, O_WRONLY | (truncate ? O_TRUNC : 0) | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path) }
        defer { close(descriptor) }
        try produce { bytes in if let code = writeAll(descriptor, bytes) { throw failure(path, code) } }
    }
}
