import Foundation

/// Analysis windows.
public enum Window {
    /// Periodic Hann window, `0.5 - 0.5 cos(2πn/N)` for n in 0..<N, as `tf.signal.hann_window(periodic=True)`.
    public static func periodicHann(_ length: Int) -> [Double] {
        (0..<length).map { n in 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(length)) }
    }
}
