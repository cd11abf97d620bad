import CFFTW
import Foundation

/// FFTW plans, made once per transform and size and shared by every thread: FFTW's planner is not thread-safe;
/// executing a plan on other arrays of the same alignment is.
enum FFTWPlans {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [String: fftw_plan] = [:]

    /// The plan named `key` (the transform and its size), made by `make` the first time.
    static func plan(_ key: String, make: () -> fftw_plan) -> fftw_plan {
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[key] { return plan }
        let plan = make()
        plans[key] = plan
        return plan
    }
}
