import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything the command prints to stdout, buffered and written with checks: Swift's `print` drops a failed
/// write (a full disk, `> /dev/full`) silently.
enum StandardOutput {
    nonisolated(unsafe) private static var pending: [UInt8] = []
    nonisolated(unsafe) private static var failure: Int32?

    /// Appends `text`, writing out whenever 64 KiB are pending.
    static func write(_ text: String) {
        pending.append(contentsOf: text.utf8)
        if pending.count >= 1 << 16 { drain() }
    }

    /// Writes what is pending; throws when any write to stdout failed.
    static func flush() throws {
        drain()
        if let failure { throw CommandError("cannot write to standard output: \(String(cString: strerror(failure)))") }
    }

    private static func drain() {
        var offset = 0
        while offset < pending.count, failure == nil {
            let written = pending.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, pending.count - offset) }
            if written < 0 {
                if errno != EINTR { failure = errno }
            } else {
                offset += written
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// The command's `print`: through ``StandardOutput`` instead of the C stream.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    StandardOutput.write(items.map { "\($0)" }.joined(separator: separator) + terminator)
}
