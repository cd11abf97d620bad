import CBase
import Foundation
import Synchronization

/// Work splitting across the machine's cores.
///
/// Loops nest: inside a ``forEach`` body (say, one batch of a network per core) ``threadCount`` is 1, so
/// the layers that body runs stay on its thread instead of splitting again.
public enum Parallel {
    /// Cores to use: 1 inside a parallel loop; else the count set by ``setThreadCount(_:)``, else
    /// `$AUDIONET_THREADS` when set, else the active processor count.
    public static var threadCount: Int { an_parallel_is_nested() != 0 ? 1 : configuredThreadCount }

    private static let override = Atomic<Int>(0)

    /// Uses `count` threads from now on (`nil`: back to `$AUDIONET_THREADS` or the core count).
    public static func setThreadCount(_ count: Int?) {
        override.store(max(0, count ?? 0), ordering: .relaxed)
    }

    static var configuredThreadCount: Int {
        let chosen = override.load(ordering: .relaxed)
        return chosen > 0 ? chosen : environmentThreadCount
    }

    /// `$AUDIONET_THREADS` or the active processor count, read once.
    static let environmentThreadCount: Int = {
        if let value = ProcessInfo.processInfo.environment["AUDIONET_THREADS"], let count = Int(value), count > 0 {
            return count
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(i)` for every i in 0..<count, spread over ``threadCount`` threads (inline when one): the calling
    /// thread and the pool's workers (`an_pool_run`), which spin between loops instead of sleeping at once.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        let threads = threadCount
        if count <= 1 || threads == 1 {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var item = body
            withUnsafeMutablePointer(to: &item) { pointer in
                an_pool_run(count, Int32(min(threads, count)), { context, index in
                    an_parallel_enter()
                    defer { an_parallel_leave() }
                    context!.assumingMemoryBound(to: (@Sendable (Int) -> Void).self).pointee(index)
                }, pointer)
            }
        }
    }

    /// The alignment of ``forEach(_:scratch:_:)``'s scratch: a cache line, enough for any SIMD load (FFTW's plans
    /// without FFTW_UNALIGNED need their arrays aligned as the ones they were planned on).
    public static let scratchAlignment = 64

    /// The smallest multiple of ``scratchAlignment`` bytes holding `count` floats, in floats: where the next part of
    /// a scratch buffer starts so that it stays aligned.
    public static func alignedScratch(_ count: Int) -> Int {
        let floats = scratchAlignment / MemoryLayout<Float>.stride
        return (count + floats - 1) / floats * floats
    }

    /// Runs `body(i, scratch)` for every i in 0..<count on at most ``threadCount`` workers, each with its own scratch
    /// buffer of `scratchCount` floats made once (not once per item: a large buffer would be mapped and faulted in
    /// again each time), aligned to ``scratchAlignment`` bytes.
    public static func forEach(_ count: Int, scratch scratchCount: Int, _ body: @Sendable (Int, UnsafeMutablePointer<Float>) -> Void) {
        let workers = min(threadCount, count)
        forEach(workers) { worker in
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, scratchCount) * MemoryLayout<Float>.stride,
                                                       alignment: scratchAlignment)
            defer { raw.deallocate() }
            let scratch = raw.bindMemory(to: Float.self, capacity: max(1, scratchCount))
            for index in stride(from: worker, to: count, by: workers) { body(index, scratch) }
        }
    }

    /// Splits `0..<count` into at most `maxShares` (default ``threadCount``) contiguous shares, each non-empty
    /// and, but for the last, a whole number of `granule`s, and runs `body` on each share in parallel.
    /// Any count and thread count work: there is never an empty or inverted range.
    public static func forEachShare(of count: Int, granule: Int = 1, maxShares: Int? = nil,
                                    _ body: @Sendable (Range<Int>) -> Void) {
        let ranges = shares(of: count, granule: granule, into: min(maxShares ?? threadCount, threadCount))
        forEach(ranges.count) { body(ranges[$0]) }
    }

    /// `0..<count` cut into at most `parts` contiguous, non-empty ranges of whole `granule`s (the last may be
    /// shorter), as even as the granules allow.
    public static func shares(of count: Int, granule: Int = 1, into parts: Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let granule = max(1, granule), granules = (count + granule - 1) / granule
        let parts = max(1, min(parts, granules))
        let perShare = (granules + parts - 1) / parts
        return stride(from: 0, to: granules, by: perShare).map { first in
            first * granule..<min(count, (first + perShare) * granule)
        }
    }
}
