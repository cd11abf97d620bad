import CBase

/// Keeps freed activation buffers (and front-end outputs) in the process heap for the next batch or file.
///
/// glibc returns large blocks to the kernel on `free` (blocks above the mmap threshold, and heap tops above
/// the trim threshold), so every batch's multi-megabyte activations were faulted in page by page again:
/// a third of YAMNet's int8 run time was page faults. Raising both thresholds makes the next batch reuse
/// the same pages. Page faults cost about 0.9 ms per MB on the virtual machines measured (an 80 MB block:
/// 70 ms to fault in, 7 ms to write once kept), so the threshold covers the largest activations of the
/// catalog at batch 16 (MobileNetV2's 77 MB, VGG-16's 205 MB). Blocks over 256 MB (long whole-file signals)
/// are still mapped and returned individually. Set once, on the first network run or front-end call.
public enum AllocatorPolicy {
    public static let configure: Void = { an_keep_freed_memory(256 << 20, 512 << 20) }()

    /// Returns the free pages the heap keeps to the kernel: between the chunks of a long run, so that the holes the
    /// batches leave (their buffers and scratch differ in size and order) do not add up over the run.
    public static func releaseFreed() { an_release_freed_memory() }
}
