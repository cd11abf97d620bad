import Foundation

/// Values made once per key and shared by every thread (FFTW plans, a layer's FFT kernels per input height): the
/// first caller makes a value under the lock, later ones get it.
public final class Memo<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Key: Value] = [:]

    public init() {}

    /// The value for `key`, made by `make` the first time.
    public func value(for key: Key, make: () throws -> Value) rethrows -> Value {
        try lock.withLock {
            if let value = values[key] { return value }
            let value = try make()
            values[key] = value
            return value
        }
    }
}
