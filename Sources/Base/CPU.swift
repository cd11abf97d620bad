import CBase
import Foundation

/// The processor's SIMD features as the kernels see them: one API over `an_cpu_detected` / `an_cpu_has`.
///
/// Kernels never run a body whose instructions the processor lacks, whatever ``level`` is set to; the level
/// only narrows the choice (tests and benchmarks use it to compare bodies).
public enum CPU {
    /// Instruction-set extensions some kernel body needs.
    public struct Features: OptionSet, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// AVX2 and FMA: the 8-lane depthwise, stem and int8 bodies, and the AVX2 clones of the other portable bodies (tier 1).
        public static let avx2 = Features(rawValue: Int32(AN_CPU_AVX2))
        /// AVX-VNNI, 256-bit `vpdpbusd` (Intel client cores): the narrow int8 body (tier 1).
        public static let avxVNNI = Features(rawValue: Int32(AN_CPU_AVX_VNNI))
        /// AVX-512 F: depthwise, stem and Winograd bodies (tier 2).
        public static let avx512 = Features(rawValue: Int32(AN_CPU_AVX512))
        /// AVX-512 F, BW, VL and VNNI: the wide int8 body (tier 2).
        public static let avx512VNNI = Features(rawValue: Int32(AN_CPU_AVX512_VNNI))
        /// AMX tiles with their int8 products (Sapphire Rapids on), permitted by the kernel: the tile int8 body (tier 3).
        public static let amxInt8 = Features(rawValue: Int32(AN_CPU_AMX_INT8))

        static let names: [(Features, String)] = [(.avx2, "AVX2"), (.avxVNNI, "AVX-VNNI"), (.avx512, "AVX-512"),
                                                  (.avx512VNNI, "AVX-512 VNNI"), (.amxInt8, "AMX int8")]
        public var description: String {
            let present = Self.names.filter { contains($0.0) }.map(\.1)
            return present.isEmpty ? "baseline x86-64 only" : present.joined(separator: ", ")
        }
    }

    /// What the processor has (and its operating system enables).
    public static var detected: Features { Features(rawValue: an_cpu_detected()) }

    /// Whether kernels may use `features` now: the processor has them and ``level`` allows their tier.
    public static func has(_ features: Features) -> Bool { an_cpu_has(features.rawValue) != 0 }

    /// The widest tier kernels may use on this thread: 3 AMX, 2 AVX-512, 1 AVX2-class, 0 portable (``withLevel(_:_:)``'s,
    /// else `$AUDIONET_SIMD_LEVEL`, default 3).
    public static var level: Int { Int(an_simd_level()) }

    /// Runs `body` with kernels capped at `level` on this thread and in the parallel loops it starts, then restores the
    /// thread's previous level; other threads (tests running beside it) keep theirs. Calls nest.
    public static func withLevel<T>(_ level: Int, _ body: () throws -> T) rethrows -> T {
        let previous = an_thread_simd_level()
        an_set_thread_simd_level(Int32(level))
        defer { an_set_thread_simd_level(previous) }
        return try body()
    }

    /// The OpenBLAS kernels this processor and level allow (an `OPENBLAS_CORETYPE` name), or nil where OpenBLAS's
    /// own choice stands.
    public static var openBLASKernels: String? { an_openblas_kernels().map { String(cString: $0) } }

    /// Whether the int8 kernels run a SIMD body now (AVX-512 VNNI, AVX-VNNI or AVX2), not the portable one.
    public static var int8HasSIMDBody: Bool { has(.avx512VNNI) || has(.avxVNNI) || has(.avx2) }
}
