import CBase

/// Keeps freed activation buffers (and front-end outputs) in the process heap for the next batch or file.
///
/// glibc returns large blocks to the kernel on `free` (blocks above the mmap threshold, and heap tops above
/// the trim threshold), so every batch's multi-megabyte activations were faulted in page by page again:
/// a third of YAMNet's int8 run time was page faults. Raising both thresholds makes the next batch reuse
/// the same pages. Blocks over 64 MB (whole-file signals) are still mapped and returned individually.
/// Set once, on the first network run or front-end call.
public enum AllocatorPolicy {
    public static let configure: Void = { an_keep_freed_memory(64 << 20, 256 << 20) }()
}
