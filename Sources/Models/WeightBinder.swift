import Foundation
import NetCore

/// The one name-keyed binder: every weight format (PyTorch, Keras HDF5, TF Lite, NPZ) yields named tensors, a
/// network's `sanitize`-style function renames them to its own keys, and the builder takes each tensor by key.
///
/// Binding is strict, as PyTorch's `load_state_dict` is by default: a missing key or a wrong shape is an error
/// naming the key, and so is, at ``finished()``, every key no layer took, except those under the prefixes the
/// network declares it does not use (GoogLeNet's auxiliary classifiers, a front end stored with the weights).
public struct WeightBinder: Sendable {
    /// The tensors, by the network's keys.
    public let tensors: [String: Tensor]
    let unused: [String]
    private let taken = TakenKeys()

    /// Binds `tensors`; keys starting with one of `unused` may stay unbound.
    public init(_ tensors: [String: Tensor], unused: [String] = []) {
        self.tensors = tensors
        self.unused = unused
    }

    /// The tensor `key`, checked to have `shape`.
    public func take(_ key: String, _ shape: [Int]) throws -> Tensor {
        guard let value = tensors[key] else { throw NetworkError.invalidWeights("the weights have no '\(key)'") }
        guard value.shape == shape else { throw NetworkError.invalidWeights("'\(key)' has shape \(value.shape), expected \(shape)") }
        taken.insert(key)
        return value
    }

    /// The tensor `key` if the weights have it (a layer the format may or may not carry, such as a folded bias).
    public func takeIfPresent(_ key: String, _ shape: [Int]) throws -> Tensor? {
        tensors[key] == nil ? nil : try take(key, shape)
    }

    /// Whether the weights have `key`.
    public func has(_ key: String) -> Bool { tensors[key] != nil }

    /// Succeeds once every key has been taken or is declared unused; else names the keys left over.
    public func finished() throws {
        let left = tensors.keys.filter { key in !taken.contains(key) && !unused.contains { key.hasPrefix($0) } }.sorted()
        guard left.isEmpty else {
            throw NetworkError.invalidWeights("the weights have \(left.count) unexpected keys: "
                                              + left.prefix(5).joined(separator: ", ") + (left.count > 5 ? ", …" : ""))
        }
    }
}

/// The keys a binder has handed out so far (a reference, so that taking a tensor need not be mutating).
private final class TakenKeys: @unchecked Sendable {
    private var keys = Set<String>()
    private let lock = NSLock()
    func insert(_ key: String) { lock.withLock { _ = keys.insert(key) } }
    func contains(_ key: String) -> Bool { lock.withLock { keys.contains(key) } }
}
