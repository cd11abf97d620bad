import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Sends file descriptor 2 to /dev/null while a C library that prints its own notes runs, so that a command's
/// stderr keeps to its one-line errors. Nested and concurrent uses share one redirection.
enum QuietStandardError {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var saved: Int32 = -1

    static func during<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock {
            if depth == 0 {
                fflush(nil)
                let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
                if null >= 0 {
                    saved = dup(STDERR_FILENO)
                    dup2(null, STDERR_FILENO)
                    close(null)
                }
            }
            depth += 1
        }
        defer {
            lock.withLock {
                depth -= 1
                if depth == 0, saved >= 0 {
                    dup2(saved, STDERR_FILENO)
                    close(saved)
                    saved = -1
                }
            }
        }
        return try body()
    }
}
