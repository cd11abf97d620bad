/// Element-wise arithmetic of two operands with NumPy broadcasting (ONNX Add, Sub, Mul, Div): two inputs, or
/// one input and a constant operand.
public struct Arithmetic: Layer {
    public enum Operation: String, Sendable { case add = "Add", subtract = "Sub", multiply = "Mul", divide = "Div" }
    public let operation: Operation
    /// The constant operand, shaped like an example (batch excluded; broadcast like any operand), if any.
    public let constant: Tensor?
    /// Whether the constant is the left operand (`c − x`, `c / x`).
    public let constantFirst: Bool

    public init(_ operation: Operation, constant: Tensor? = nil, constantFirst: Bool = false) {
        self.operation = operation
        self.constant = constant
        self.constantFirst = constantFirst
    }

    public var typeName: String { operation.rawValue }
    public var parameterCount: Int { constant?.count ?? 0 }

    /// The operands' example shapes, left first.
    func operands(_ inputs: [[Int]]) -> [[Int]] {
        guard let constant else { return inputs }
        return constantFirst ? [constant.shape] + inputs : inputs + [constant.shape]
    }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: constant == nil ? 2 : 1)
        let shapes = operands(inputs)
        guard let shape = Multiply.broadcast(shapes[0], shapes[1]) else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "a shape broadcastable with \(shapes[0])", got: shapes[1])
        }
        return shape
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let batch = output.shape[0]
        var tensors = inputs
        if let constant {
            let operand = Tensor(shape: [1] + constant.shape, scalars: constant.scalars)
            tensors = constantFirst ? [operand] + inputs : inputs + [operand]
        }
        let shape = output.shape
        /// Each operand's step per output axis (0 along a broadcast axis); the batch axis is the first.
        func steps(_ tensor: Tensor) -> [Int] {
            let example = Array(tensor.shape.dropFirst())
            let padded = [tensor.shape[0] == batch ? batch : 1] + [Int](repeating: 1, count: shape.count - 1 - example.count) + example
            var result = [Int](repeating: 0, count: shape.count), step = 1
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                result[axis] = padded[axis] == 1 ? 0 : step
                step *= padded[axis]
            }
            return result
        }
        let (a, b) = (tensors[0], tensors[1])
        let sa = steps(a), sb = steps(b)
        // The last axis runs as an inner loop; the others step an index like an odometer. Large outputs (an SE block's
        // channel scaling, 401,408 values for one EfficientNet-B0 image) share their rows over the cores.
        let inner = shape.last ?? 1
        let count = output.count, outer = inner == 0 ? 0 : count / inner
        a.scalars.withUnsafeBufferPointer { x in
            b.scalars.withUnsafeBufferPointer { y in
                output.scalars.withUnsafeMutableBufferPointer { out in
                    let rows = Rows(operation: operation, shape: shape, stepsA: sa, stepsB: sb, a: SharedReadPointer(x.baseAddress!),
                                    b: SharedReadPointer(y.baseAddress!), output: SharedPointer(out.baseAddress!))
                    if count >= Self.valuesPerCore * 2 && Parallel.threadCount > 1 {
                        Parallel.forEachShare(of: outer, maxShares: count / Self.valuesPerCore) { rows.run($0) }
                    } else {
                        rows.run(0..<outer)
                    }
                }
            }
        }
    }

    /// Outputs a core takes at least when the cores share a layer's rows.
    static let valuesPerCore = 32 * 1024

    /// Rows (outputs along the last axis) of one operation on two operands with the steps of `steps(_:)`.
    private struct Rows: Sendable {
        let operation: Operation
        let shape: [Int]
        let stepsA: [Int], stepsB: [Int]
        let a: SharedReadPointer<Float>, b: SharedReadPointer<Float>
        let output: SharedPointer<Float>

        func run(_ rows: Range<Int>) {
            let inner = shape.last ?? 1, innerA = stepsA.last ?? 0, innerB = stepsB.last ?? 0
            // The odometer at the first row: its digits in the axes' sizes, and each operand's offset.
            var index = [Int](repeating: 0, count: max(shape.count - 1, 0))
            var ia = 0, ib = 0, rest = rows.lowerBound
            for axis in index.indices.reversed() {
                index[axis] = rest % shape[axis]
                rest /= shape[axis]
                ia += index[axis] * stepsA[axis]
                ib += index[axis] * stepsB[axis]
            }
            for row in rows {
                let target = output.base + row * inner, left = a.base + ia, right = b.base + ib
                switch operation {
                case .add: Arithmetic.combine(left, innerA, right, innerB, into: target, count: inner, +)
                case .subtract: Arithmetic.combine(left, innerA, right, innerB, into: target, count: inner, -)
                case .multiply: Arithmetic.combine(left, innerA, right, innerB, into: target, count: inner, *)
                case .divide: Arithmetic.combine(left, innerA, right, innerB, into: target, count: inner, /)
                }
                var axis = index.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    ia += stepsA[axis]
                    ib += stepsB[axis]
                    if index[axis] < shape[axis] { break }
                    ia -= stepsA[axis] * shape[axis]
                    ib -= stepsB[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// `count` outputs of `operation` on operands that step by 1 along the row or stay on one value (step 0, a
    /// broadcast axis): each case a loop of its own, so that the compiler vectorizes it (squeeze-and-excite's channel
    /// scaling had run at 2.5 ns a value with the steps as multipliers).
    @inline(__always)
    static func combine(_ x: UnsafePointer<Float>, _ stepX: Int, _ y: UnsafePointer<Float>, _ stepY: Int,
                        into out: UnsafeMutablePointer<Float>, count: Int, _ operation: (Float, Float) -> Float) {
        switch (stepX, stepY) {
        case (0, 0): let value = operation(x[0], y[0]); for i in 0..<count { out[i] = value }
        case (_, 0): let b = y[0]; for i in 0..<count { out[i] = operation(x[i], b) }
        case (0, _): let a = x[0]; for i in 0..<count { out[i] = operation(a, y[i]) }
        default: for i in 0..<count { out[i] = operation(x[i], y[i]) }
        }
    }
}
