/// `[…]` → `[product]` (row-major, so NHWC flattens channels fastest).
public struct Flatten: Layer {
    public init() {}
    public var typeName: String { "Flatten" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        return [inputs[0].reduce(1, *)]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) { output = inputs[0].reshaped(output.shape) }
}

/// Reshapes each example to `shape` (one entry may be −1).
public struct Reshape: Layer {
    public let shape: [Int]
    public init(_ shape: [Int]) { self.shape = shape }
    public var typeName: String { "Reshape" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        // The target shape may come from a model file: every product is checked (a crafted one overflowed).
        guard let count = CheckedSize.elementCount(inputs[0]), shape.filter({ $0 == -1 }).count <= 1,
              let known = CheckedSize.elementCount(shape.filter { $0 != -1 }) else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "a shape of whole sizes, at most one -1", got: shape)
        }
        let resolved = shape.map { $0 == -1 ? (known == 0 ? 0 : count / known) : $0 }
        guard CheckedSize.elementCount(resolved) == count else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "\(count) elements for \(shape)", got: inputs[0])
        }
        return resolved
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) { output = inputs[0].reshaped(output.shape) }
}

/// Reorders the axes of each example: output axis i is input axis `axes[i]` (batch excluded).
public struct Permute: Layer {
    public let axes: [Int]
    public init(_ axes: [Int]) { self.axes = axes }
    public var typeName: String { "Permute" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: axes.count)
        guard axes.sorted() == Array(0..<axes.count) else { throw NetworkError.invalidGraph("Permute axes \(axes) are not a permutation") }
        return axes.map { inputs[0][$0] }
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) { output = inputs[0].permuted([0] + axes.map { $0 + 1 }) }
}

/// Zero padding of the two spatial axes of NHWC tensors; a negative size crops that side instead (ONNX's Pad reads
/// negative pads so; Keras's Cropping2D).
public struct ZeroPad2D: Layer {
    public let top, bottom, left, right: Int
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }
    public var typeName: String { "ZeroPad2D" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 3)
        let shape = [inputs[0][0] + top + bottom, inputs[0][1] + left + right, inputs[0][2]]
        guard shape[0] > 0, shape[1] > 0 else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "more rows and columns than it crops", got: inputs[0])
        }
        return shape
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outHeight = height + top + bottom, outWidth = width + left + right
        // The input columns that land inside the output.
        let columns = max(0, -left)..<min(width, outWidth - left)
        output.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        guard !columns.isEmpty else { return }
        for image in 0..<batch {
            for y in max(0, -top)..<min(height, outHeight - top) {
                let from = ((image * height + y) * width + columns.lowerBound) * channels
                let to = ((image * outHeight + y + top) * outWidth + columns.lowerBound + left) * channels
                output.scalars.replaceSubrange(to..<to + columns.count * channels, with: input.scalars[from..<from + columns.count * channels])
            }
        }
    }
}

/// Dropout: the identity at inference.
public struct Dropout: Layer {
    public let rate: Float
    public init(rate: Float) { self.rate = rate }
    public var typeName: String { "Dropout" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        return inputs[0]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) { output = inputs[0].reshaped(output.shape) }
}

/// ShuffleNet's channel shuffle on the last axis: `[…, g, C/g]` → `[…, C/g, g]`.
public struct ChannelShuffle: Layer {
    public let groups: Int
    public init(groups: Int) { self.groups = groups }
    public var typeName: String { "ChannelShuffle" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        guard let channels = inputs[0].last, channels % groups == 0 else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "channels divisible by \(groups)", got: inputs[0])
        }
        return inputs[0]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let channels = output.shape.last!, perGroup = channels / groups, groups = groups
        let positions = output.count / max(channels, 1), chunk = 256
        guard positions > 0 else { return }
        inputs[0].scalars.withUnsafeBufferPointer { source in
            output.scalars.withUnsafeMutableBufferPointer { target in
                let from = SharedReadPointer(source.baseAddress!), to = SharedPointer(target.baseAddress!)
                Parallel.forEach((positions + chunk - 1) / chunk) { index in
                    for position in index * chunk..<min(positions, (index + 1) * chunk) {
                        let x = from.base + position * channels, y = to.base + position * channels
                        // Written in order: output channel i·g + group is input channel group·(C/g) + i.
                        var output = y
                        for i in 0..<perGroup {
                            for group in 0..<groups { output[group] = x[group * perGroup + i] }
                            output += groups
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// The tensor with its axes reordered: output axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<shape.count), "not a permutation of the axes")
        let outShape = axes.map { shape[$0] }
        // Most permutations are a transpose of two merged axes, per batch item ([N, C, H, W] → [N, H, W, C] transposes
        // [C, H·W] matrices): done in cache-sized blocks instead of element by element.
        let (sizes, order) = Self.mergedAxes(shape, axes)
        if order.count <= 1 { return Tensor(shape: outShape, scalars: scalars) }
        if order == [1, 0] || order == [0, 2, 1] {
            let (batch, rows, columns) = order.count == 2 ? (1, sizes[0], sizes[1]) : (sizes[0], sizes[1], sizes[2])
            return Tensor(shape: outShape) { result in
                scalars.withUnsafeBufferPointer { source in
                    for item in 0..<batch {
                        let from = source.baseAddress! + item * rows * columns, to = result.baseAddress! + item * rows * columns
                        for row0 in stride(from: 0, to: rows, by: 32) {
                            for column0 in stride(from: 0, to: columns, by: 32) {
                                for row in row0..<min(row0 + 32, rows) {
                                    for column in column0..<min(column0 + 32, columns) { to[column * rows + row] = from[row * columns + column] }
                                }
                            }
                        }
                    }
                }
            }
        }
        var inStrides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * shape[axis + 1] }
        let strides = axes.map { inStrides[$0] }
        var result = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: shape.count)
        var source = 0
        for destination in 0..<count {
            result[destination] = scalars[source]
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < outShape[axis] { break }
                source -= strides[axis] * outShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: outShape, scalars: result)
    }
}

extension Tensor {
    /// The smallest equivalent permutation: axes of size 1 dropped, and axes that stay neighbours in the same order
    /// merged. `sizes` are the merged axes' sizes in input order; output axis i is merged input axis `order[i]`.
    static func mergedAxes(_ shape: [Int], _ axes: [Int]) -> (sizes: [Int], order: [Int]) {
        let kept = (0..<shape.count).filter { shape[$0] != 1 }
        let position = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        var runs: [[Int]] = []  // positions in the input's kept axes, in output order
        for axis in axes where shape[axis] != 1 {
            let p = position[axis]!
            if let last = runs.last?.last, p == last + 1 { runs[runs.count - 1].append(p) } else { runs.append([p]) }
        }
        let byInput = runs.indices.sorted { runs[$0][0] < runs[$1][0] }
        let sizes = byInput.map { runs[$0].reduce(1) { $0 * shape[kept[$1]] } }
        var order = [Int](repeating: 0, count: runs.count)
        for (rank, run) in byInput.enumerated() { order[run] = rank }
        return (sizes, order)
    }
}

/// Channels `range` of the last axis (ShuffleNet V2's channel split, `x.chunk(2, dim=1)`).
public struct ChannelSlice: Layer {
    public let range: Range<Int>
    public init(_ range: Range<Int>) { self.range = range }
    public var typeName: String { "ChannelSlice" }
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        guard let channels = inputs[0].last, range.lowerBound >= 0, range.upperBound <= channels else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "at least \(range.upperBound) channels", got: inputs[0])
        }
        return Array(inputs[0].dropLast()) + [range.count]
    }
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0], channels = input.shape.last!
        for (row, base) in stride(from: 0, to: input.count, by: channels).enumerated() {
            output.scalars.replaceSubrange(row * range.count..<(row + 1) * range.count,
                                           with: input.scalars[(base + range.lowerBound)..<(base + range.upperBound)])
        }
    }
}
