import CFFTW
import Foundation

/// A real-to-complex FFTW double-precision plan of one size, planned once and shared.
///
/// Double precision because a log-mel front end must be exact in bins far below the spectrum's peak:
/// single-precision rounding (about 1e-7 of the peak magnitude) reaches 1e-3 in the log of bins 50 dB
/// down, ten times the tolerance against the float64 reference.
///
/// FFTW's planner is not thread-safe, so plans are made under a lock and cached by size;
/// executing a plan on caller-owned buffers (`fftw_execute_dft_r2c`) is thread-safe.
public final class RealFFT: @unchecked Sendable {
    /// Transform length in samples.
    public let size: Int
    /// Number of complex outputs, `size / 2 + 1`.
    public var binCount: Int { size / 2 + 1 }
    private let plan: fftw_plan

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [Int: RealFFT] = [:]

    private init(size: Int) {
        self.size = size
        let input = fftw_alloc_real(size)!
        let output = fftw_alloc_complex(size / 2 + 1)!
        // FFTW_UNALIGNED: the plan is later executed on arbitrary Swift buffers.
        plan = fftw_plan_dft_r2c_1d(Int32(size), input, output, UInt32(FFTW_MEASURE | FFTW_UNALIGNED))!
        fftw_free(input)
        fftw_free(output)
    }

    /// The shared plan for transforms of length `size`.
    public static func plan(size: Int) -> RealFFT {
        precondition(size > 0, "FFT size must be positive")
        lock.lock()
        defer { lock.unlock() }
        if let plan = cache[size] { return plan }
        let plan = RealFFT(size: size)
        cache[size] = plan
        return plan
    }

    /// Transforms `size` real samples into `binCount` complex values stored as interleaved (re, im) pairs.
    /// `input` is not modified.
    public func forward(_ input: UnsafeMutablePointer<Double>, _ output: UnsafeMutablePointer<Double>) {
        output.withMemoryRebound(to: fftw_complex.self, capacity: binCount) { complex in
            fftw_execute_dft_r2c(plan, input, complex)
        }
    }
}
