import Base
import CFFTW

/// FFTW plans, made once per transform and size and shared by every thread: FFTW's planner is not thread-safe;
/// executing a plan on other arrays of the same alignment is.
enum FFTWPlans {
    private static let plans = Memo<String, fftw_plan>()

    /// The plan named `key` (the transform and its size), made by `make` the first time.
    static func plan(_ key: String, make: () -> fftw_plan) -> fftw_plan { plans.value(for: key, make: make) }

    /// `count` doubles, zero, aligned as FFTW's SIMD codelets need (so plans need not allow unaligned arrays); free
    /// them with `fftw_free`.
    static func buffer(doubles count: Int) -> UnsafeMutablePointer<Double> {
        let buffer = fftw_alloc_real(count)!
        buffer.initialize(repeating: 0, count: count)
        return buffer
    }
}
