import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading input files that must be regular files: a FIFO, device or directory in place of a weight, audio,
/// image or tensor file is refused at once instead of blocking or reading forever.
public enum RegularFile {
    /// Why a file was not read; one line that names the path.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case missing(String)
        case notRegular(String, kind: String)
        case unreadable(String, reason: String)
        case tooLarge(String, bytes: Int, limit: Int)

        public var description: String {
            switch self {
            case .missing(let path): return "cannot open '\(path)': no such file"
            case .notRegular(let path, let kind): return "cannot read '\(path)': it is a \(kind), not a regular file"
            case .unreadable(let path, let reason): return "cannot read '\(path)': \(reason)"
            case .tooLarge(let path, let bytes, let limit): return "'\(path)' has \(bytes) bytes, more than the \(limit) this reader accepts"
            }
        }
    }

    /// Throws unless `path` (links followed) is an existing regular file.
    public static func check(_ path: String) throws(Failure) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw errno == ENOENT ? .missing(path) : .unreadable(path, reason: String(cString: strerror(errno)))
        }
        try requireRegular(info, path)
    }

    /// The whole file at `path`, refusing anything but a regular file of at most `limit` bytes.
    public static func read(_ path: String, limit: Int = 1 << 36) throws(Failure) -> [UInt8] {
        // Non-blocking open: opening a FIFO with no writer would otherwise wait forever.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw errno == ENOENT ? .missing(path) : .unreadable(path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadable(path, reason: String(cString: strerror(errno))) }
        try requireRegular(info, path)
        let size = Int(info.st_size)
        guard size <= limit else { throw .tooLarge(path, bytes: size, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + offset, size - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable(path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }  // the file shrank while it was read
            offset += count
        }
        return offset == size ? bytes : Array(bytes[..<offset])
    }

    private static func requireRegular(_ info: stat, _ path: String) throws(Failure) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw .notRegular(path, kind: "directory")
        case S_IFIFO: throw .notRegular(path, kind: "FIFO")
        case S_IFCHR, S_IFBLK: throw .notRegular(path, kind: "device")
        case S_IFSOCK: throw .notRegular(path, kind: "socket")
        default: throw .notRegular(path, kind: "special file")
        }
    }
}
