/// Errors raised while building or running a network; each description is one line.
public enum NetworkError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(layer: String, expected: String, got: [Int])
    case unknownLayer(String, valid: [String])
    case invalidGraph(String)
    case invalidWeights(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let layer, let expected, let got):
            return "\(layer) expects input of shape \(expected), got \(got)"
        case .unknownLayer(let name, let valid):
            return "no layer named '\(name)'; valid names: \(valid.joined(separator: ", "))"
        case .invalidGraph(let why): return "invalid network: \(why)"
        case .invalidWeights(let why): return "invalid weights: \(why)"
        }
    }
}

/// A network layer on batch-first tensors (images NHWC, sequences NLC).
///
/// Shapes passed to ``outputShape(for:)`` and ``multiplyAdds(for:)`` exclude the batch dimension.
public protocol Layer: Sendable {
    /// Layer type shown by `audionet info`, e.g. `Conv2D`.
    var typeName: String { get }
    /// Output shape for the given input shapes (batch excluded); throws on incompatible inputs.
    func outputShape(for inputs: [[Int]]) throws -> [Int]
    /// Computes the output for batch-first inputs whose shapes ``outputShape(for:)`` accepted into `output`, which
    /// arrives shaped for it and holding stale values (a reused activation buffer): every element must be written.
    /// A layer that only reinterprets its input (a reshape) may instead assign the input, reshaped, to `output`: a
    /// view, which shares the input's storage until either is written.
    func forward(_ inputs: [Tensor], into output: inout Tensor)
    /// Learnable parameters (BatchNorm running statistics excluded, as MATLAB counts learnables).
    var parameterCount: Int { get }
    /// Bytes of weights a pass reads: four a parameter, one an int8 weight.
    var parameterBytes: Int { get }
    /// Multiply-adds per example.
    func multiplyAdds(for inputs: [[Int]]) -> Int
}

extension Layer {
    public var parameterCount: Int { 0 }
    public var parameterBytes: Int { MemoryLayout<Float>.size * parameterCount }
    public func multiplyAdds(for inputs: [[Int]]) -> Int { 0 }

    /// The output in a new tensor. Its buffer starts as NaNs, so an element the layer failed to write shows.
    public func forward(_ inputs: [Tensor]) -> Tensor {
        guard let batch = inputs.first?.shape.first, let shape = try? outputShape(for: inputs.map { Array($0.shape.dropFirst()) }) else {
            preconditionFailure("\(typeName) cannot take inputs of shapes \(inputs.map(\.shape))")
        }
        var output = Tensor(shape: [batch] + shape, scalars: [Float](repeating: .nan, count: batch * shape.reduce(1, *)))
        forward(inputs, into: &output)
        return output
    }

    /// The shape of a linear map over the last axis (``Dense``, ``Int8Linear``): the input's shape with its
    /// last extent, which must be `inputFeatures`, replaced by `outputFeatures`.
    func lastAxisOutputShape(_ inputs: [[Int]], inputFeatures: Int, outputFeatures: Int) throws -> [Int] {
        try requireInputs(inputs, count: 1)
        guard inputs[0].last == inputFeatures else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "[…, \(inputFeatures)]", got: inputs[0])
        }
        return Array(inputs[0].dropLast()) + [outputFeatures]
    }

    /// Checks that exactly `count` inputs were given.
    func requireInputs(_ inputs: [[Int]], count: Int, rank: Int? = nil) throws {
        guard inputs.count == count else {
            throw NetworkError.invalidGraph("\(typeName) takes \(count) input(s), got \(inputs.count)")
        }
        if let rank, let bad = inputs.first(where: { $0.count != rank }) {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "of rank \(rank) (batch excluded)", got: bad)
        }
    }
}
