/// A layer that slides a window over an NHWC map — the convolutions: its kernel, stride, dilation and padding, and from
/// them its geometry on an input shape and its output shape.
protocol SlidingWindow: Layer {
    var kernel: (height: Int, width: Int) { get }
    var stride: (y: Int, x: Int) { get }
    var dilation: (y: Int, x: Int) { get }
    var padding: Padding { get }
}

extension SlidingWindow {
    /// The window's geometry on examples of shape `shape` (`[H, W, C]`).
    func geometry(_ shape: [Int]) -> WindowGeometry {
        WindowGeometry(height: shape[0], width: shape[1], kernel: (kernel.height, kernel.width), stride: (stride.y, stride.x),
                       dilation: (dilation.y, dilation.x), padding: padding)
    }

    /// The output shape on one `[H, W, channels]` input, after checking it.
    func windowOutputShape(_ inputs: [[Int]], channels: Int, outputChannels: Int) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 3)
        return try geometry(inputs[0]).outputShape(of: typeName, input: inputs[0], channels: channels, outputChannels: outputChannels)
    }
}
