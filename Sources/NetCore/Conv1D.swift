/// 1-D convolution on `[N, L, C]` tensors: a ``Conv2D`` over a height-1 image.
public struct Conv1D: Layer, ShapePlanned {
    /// The equivalent 2-D convolution with kernel `1 × width`.
    public internal(set) var conv: Conv2D

    /// `weights` are `[width, inputChannels / groups, outputChannels]`; `padding` is `.same`, `.valid` or
    /// `.explicit(top: 0, bottom: 0, left: before, right: after)`.
    public init(inputChannels: Int, outputChannels: Int, width: Int, stride: Int = 1, dilation: Int = 1, groups: Int = 1,
                padding: Padding = .valid, weights: [Float]? = nil, bias: [Float]? = nil, activation: Activation = .identity) {
        conv = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernel: (1, width), stride: (1, stride),
                      dilation: (1, dilation), groups: groups, padding: padding, weights: weights, bias: bias,
                      activation: activation)
    }

    public var typeName: String { "Conv1D" }
    public var parameterCount: Int { conv.parameterCount }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 2)
        return Array(try conv.outputShape(for: [[1] + inputs[0]]).dropFirst())
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { conv.multiplyAdds(for: [[1] + inputs[0]]) }

    public func planned(for inputs: [[Int]]) -> Conv1D {
        var planned = self
        planned.conv = conv.planned(for: [[1] + inputs[0]])
        return planned
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0], shape = output.shape
        output.shape = [shape[0], 1] + shape.dropFirst()
        conv.forward([input.reshaped([input.shape[0], 1] + input.shape.dropFirst())], into: &output)
        output.shape = shape
    }
}
