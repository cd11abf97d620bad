import CKernels
import Foundation

/// A raw pointer that may cross into worker threads; callers guarantee disjoint access.
public struct SharedPointer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// A read-only raw pointer that may cross into worker threads.
public struct SharedReadPointer<Element>: @unchecked Sendable {
    public let base: UnsafePointer<Element>
    public init(_ base: UnsafePointer<Element>) { self.base = base }
}

/// Work splitting across the machine's cores.
///
/// Loops nest: inside a ``forEach`` body (say, one batch of a network per core) ``threadCount`` is 1, so
/// the layers that body runs stay on its thread instead of splitting again.
public enum Parallel {
    /// Cores to use: 1 inside a parallel loop; else `$AUDIONET_THREADS` when set, else the active processor count.
    public static var threadCount: Int { an_parallel_is_nested() != 0 ? 1 : configuredThreadCount }

    /// `$AUDIONET_THREADS` or the active processor count, read once.
    static let configuredThreadCount: Int = {
        if let value = ProcessInfo.processInfo.environment["AUDIONET_THREADS"], let count = Int(value), count > 0 {
            return count
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(i)` for every i in 0..<count, spread over ``threadCount`` threads (inline when one).
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if count <= 1 || threadCount == 1 {
            for index in 0..<count { body(index) }
        } else {
            DispatchQueue.concurrentPerform(iterations: count) { index in
                an_parallel_enter()
                defer { an_parallel_leave() }
                body(index)
            }
        }
    }
}
