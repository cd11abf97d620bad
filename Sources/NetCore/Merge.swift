/// Element-wise sum of two or more tensors of one shape (residual connections), with a fused activation.
public struct Add: Layer {
    public var activation: Activation
    /// The range of each input over calibration examples, once the network was calibrated
    /// (``Network/int8Quantized(calibratedOn:)``): an int8 projection fused with it (``ProjectionAdd``) reads its residual
    /// as uint8 codes of that range.
    public internal(set) var inputRanges: [ClosedRange<Float>]?
    public init(activation: Activation = .identity) { self.activation = activation }
    public var typeName: String { "Add" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        guard inputs.count >= 2, inputs.allSatisfy({ $0 == inputs[0] }) else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "two or more equal shapes", got: inputs.first ?? [])
        }
        return inputs[0]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let count = inputs[0].count, chunk = 1 << 16
        let sources = inputs.map { $0.scalars }
        output.scalars.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let out = SharedPointer(base)
            Parallel.forEach((count + chunk - 1) / chunk) { index in
                let range = (index * chunk)..<min(count, (index + 1) * chunk)
                sources[0].withUnsafeBufferPointer { first in
                    for i in range { out.base[i] = first[i] }
                }
                for source in sources.dropFirst() {
                    source.withUnsafeBufferPointer { x in for i in range { out.base[i] += x[i] } }
                }
                activation.apply(out.base + range.lowerBound, count: range.count)
            }
        }
    }
}

/// Element-wise product of two tensors with NumPy broadcasting (squeeze-and-excite's channel scaling).
public struct Multiply: Layer {
    public init() {}
    public var typeName: String { "Multiply" }

    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a, pb = [Int](repeating: 1, count: rank - b.count) + b
        var result: [Int] = []
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            result.append(max(x, y))
        }
        return result
    }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 2)
        guard let shape = Multiply.broadcast(inputs[0], inputs[1]) else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "a shape broadcastable with \(inputs[0])", got: inputs[1])
        }
        return shape
    }

    /// The broadcasting loop of ``Arithmetic``.
    public func forward(_ inputs: [Tensor], into output: inout Tensor) { Arithmetic(.multiply).forward(inputs, into: &output) }
}

/// Concatenation along one axis of each example (default: the last, channels).
public struct Concat: Layer {
    /// Axis of the example shape (batch excluded); negative counts from the end.
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public var typeName: String { "Concat" }

    func resolvedAxis(rank: Int) -> Int { axis < 0 ? rank + axis : axis }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        guard let first = inputs.first, inputs.count >= 1 else { throw NetworkError.invalidGraph("Concat needs inputs") }
        let a = resolvedAxis(rank: first.count)
        guard a >= 0 && a < first.count else { throw NetworkError.invalidGraph("Concat axis \(axis) out of range") }
        for shape in inputs {
            guard shape.count == first.count,
                  shape.indices.allSatisfy({ $0 == a || shape[$0] == first[$0] }) else {
                throw NetworkError.shapeMismatch(layer: typeName, expected: "shapes equal except on axis \(axis)", got: shape)
            }
        }
        var result = first
        result[a] = inputs.reduce(0) { $0 + $1[a] }
        return result
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let rank = inputs[0].shape.count
        let a = resolvedAxis(rank: rank - 1) + 1
        let outer = inputs[0].shape[..<a].reduce(1, *)
        let blocks = inputs.map { $0.shape[a...].reduce(1, *) }
        let width = blocks.reduce(0, +)
        output.scalars.withUnsafeMutableBufferPointer { target in
            for o in 0..<outer {
                var position = o * width
                for (tensor, block) in zip(inputs, blocks) where block > 0 {
                    tensor.scalars.withUnsafeBufferPointer { source in
                        (target.baseAddress! + position).update(from: source.baseAddress! + o * block, count: block)
                    }
                    position += block
                }
            }
        }
    }
}
