/// Spatial padding of a convolution or pooling window.
public enum Padding: Sendable, Equatable {
    /// No padding: only windows that fit.
    case valid
    /// TensorFlow's `SAME`: output = ceil(input / stride); the extra pixel of an odd total goes after.
    case same
    /// Explicit pixels: top, bottom, left, right.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// Symmetric explicit padding (PyTorch's `padding=(ph, pw)`).
    public static func symmetric(_ vertical: Int, _ horizontal: Int) -> Padding {
        .explicit(top: vertical, bottom: vertical, left: horizontal, right: horizontal)
    }

    /// The pixels added before and after along one axis of `input` samples (TensorFlow's `SAME` puts the extra one
    /// after): ONNX's `pads`, for a window operation's exporter.
    public func pads(input: Int, kernel: Int, stride: Int, dilation: Int = 1, axis: Int) -> (before: Int, after: Int) {
        switch self {
        case .valid: return (0, 0)
        case .same:
            let (output, before) = resolve(input: input, kernel: kernel, stride: stride, dilation: dilation, axis: axis)
            return (before, max((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0) - before)
        case .explicit(let top, let bottom, let left, let right): return axis == 0 ? (top, bottom) : (left, right)
        }
    }

    /// Output size and padding before along one axis.
    func resolve(input: Int, kernel: Int, stride: Int, dilation: Int, axis: Int) -> (output: Int, before: Int) {
        let span = (kernel - 1) * dilation + 1
        switch self {
        case .valid:
            return (input >= span ? (input - span) / stride + 1 : 0, 0)
        case .same:
            let output = (input + stride - 1) / stride
            let total = max((output - 1) * stride + span - input, 0)
            return (output, total / 2)
        case .explicit(let top, let bottom, let left, let right):
            let (before, after) = axis == 0 ? (top, bottom) : (left, right)
            let padded = input + before + after
            return (padded >= span ? (padded - span) / stride + 1 : 0, before)
        }
    }
}

/// Resolved geometry of a 2-D window operation on an NHWC input.
struct WindowGeometry {
    let inputHeight, inputWidth, outputHeight, outputWidth: Int
    let kernelHeight, kernelWidth, strideY, strideX, dilationY, dilationX, padTop, padLeft: Int

    init(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), padding: Padding) {
        inputHeight = height
        inputWidth = width
        (kernelHeight, kernelWidth) = kernel
        (strideY, strideX) = stride
        (dilationY, dilationX) = dilation
        let vertical = padding.resolve(input: height, kernel: kernel.0, stride: stride.0, dilation: dilation.0, axis: 0)
        let horizontal = padding.resolve(input: width, kernel: kernel.1, stride: stride.1, dilation: dilation.1, axis: 1)
        (outputHeight, padTop) = vertical
        (outputWidth, padLeft) = horizontal
    }

    /// The output shape `[H, W, outputChannels]` of a windowed layer, after checking the input's channels and
    /// that at least one window fits.
    func outputShape(of layer: String, input: [Int], channels: Int, outputChannels: Int) throws -> [Int] {
        guard input[2] == channels else {
            throw NetworkError.shapeMismatch(layer: layer, expected: "[H, W, \(channels)]", got: input)
        }
        guard outputHeight > 0, outputWidth > 0 else {
            throw NetworkError.shapeMismatch(layer: layer, expected: "at least the kernel's extent", got: input)
        }
        return [outputHeight, outputWidth, outputChannels]
    }
}
