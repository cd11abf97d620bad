/// A dense Float32 tensor: a shape (batch first) and contiguous row-major storage.
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first.
    public var shape: [Int]
    /// Elements in row-major (C) order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]
    /// Set when the storage holds uint8 codes instead of floats: `count` bytes from the start of `scalars`, element `i`
    /// being `scale × (code − zero)`. Only int8 layers exchange such tensors inside a network run, which returns
    /// ``dequantized()`` values.
    public var codes: Quantization?

    /// The scale and zero point of uint8 codes.
    public struct Quantization: Sendable, Equatable {
        public let scale: Float
        public let zero: Int32

        public init(scale: Float, zero: Int32) {
            self.scale = scale
            self.zero = zero
        }
    }

    /// Wraps `scalars` with `shape`; the element count must match.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == scalars.count,
                     "shape \(shape) does not match \(scalars.count) elements")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose every element `fill` writes through the pointer (no zero-filling pass first).
    public init(shape: [Int], filling fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.init(shape: shape, scalars: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer)
            initialized = count
        })
    }

    /// The float values of a tensor of ``codes`` (itself when it holds floats).
    public func dequantized() -> Tensor {
        guard let codes else { return self }
        return Tensor(shape: shape) { output in
            scalars.withUnsafeBytes { bytes in
                for (index, code) in bytes.prefix(count).enumerated() { output[index] = codes.scale * Float(Int32(code) - codes.zero) }
            }
        }
    }

    /// Number of elements.
    public var count: Int { scalars.count }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, scalars: scalars) }

    /// The rows `indices` of a tensor `[N, …]`, in that order: `[indices.count, …]`.
    public func rows(_ indices: [Int]) -> Tensor {
        let width = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [indices.count] + shape.dropFirst()) { output in
            scalars.withUnsafeBufferPointer { input in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < shape[0], "row \(index) of \(shape[0])")
                    output.baseAddress!.advanced(by: row * width).update(from: input.baseAddress! + index * width, count: width)
                }
            }
        }
    }
}
