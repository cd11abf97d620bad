/// Transposed 2-D convolution on NHWC tensors (ONNX ConvTranspose, PyTorch's ConvTranspose2d): each input pixel
/// spreads its `kernel` taps over the output, `stride` apart. Per image one product `[H·W, Cin] · [Cin, kh·kw·Cout]`
/// gives every pixel's taps, which are then added into place (col2im).
public struct ConvTranspose2D: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: (height: Int, width: Int)
    public let stride: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    /// Rows and columns cropped from the full output at each side (ONNX `pads`).
    public let crop: (top: Int, left: Int, bottom: Int, right: Int)
    /// Rows and columns added at the end (ONNX `output_padding`).
    public let outputPadding: (height: Int, width: Int)
    /// Weights `[inputChannels, kh, kw, outputChannels]`.
    public let weights: [Float]
    public let bias: [Float]

    public init(inputChannels: Int, outputChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                crop: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0), outputPadding: (Int, Int) = (0, 0),
                weights: [Float], bias: [Float]? = nil) {
        precondition(weights.count == inputChannels * kernel.0 * kernel.1 * outputChannels, "weight count mismatch")
        (self.inputChannels, self.outputChannels) = (inputChannels, outputChannels)
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.crop = crop
        self.outputPadding = (outputPadding.0, outputPadding.1)
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
    }

    public var typeName: String { "ConvTranspose2D" }
    public var parameterCount: Int { weights.count + bias.count }

    /// The output size along one axis: `(in − 1)·s + d·(k − 1) + 1 + output padding − crops`.
    public static func size(_ input: Int, _ k: Int, _ s: Int, _ d: Int, _ before: Int, _ after: Int, _ extra: Int) -> Int {
        (input - 1) * s + d * (k - 1) + 1 + extra - before - after
    }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 3)
        guard inputs[0][2] == inputChannels else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "[H, W, \(inputChannels)]", got: inputs[0])
        }
        let height = Self.size(inputs[0][0], kernel.height, stride.y, dilation.y, crop.top, crop.bottom, outputPadding.height)
        let width = Self.size(inputs[0][1], kernel.width, stride.x, dilation.x, crop.left, crop.right, outputPadding.width)
        guard height > 0, width > 0 else { throw NetworkError.shapeMismatch(layer: typeName, expected: "a positive output size", got: inputs[0]) }
        return [height, width, outputChannels]
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { inputs[0].reduce(1, *) * kernel.height * kernel.width * outputChannels }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let (batch, height, width) = (input.shape[0], input.shape[1], input.shape[2])
        let (outHeight, outWidth, cout) = (output.shape[1], output.shape[2], outputChannels)
        let taps = kernel.height * kernel.width * cout
        var columns = [Float](repeating: 0, count: height * width * taps)
        for image in 0..<batch {
            input.scalars.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    columns.withUnsafeMutableBufferPointer { c in
                        GEMM.parallel(m: height * width, n: taps, k: inputChannels, a: x.baseAddress! + image * height * width * inputChannels,
                                      lda: inputChannels, b: w.baseAddress!, ldb: taps, c: c.baseAddress!, ldc: taps)
                    }
                }
            }
            output.scalars.withUnsafeMutableBufferPointer { out in
                let base = image * outHeight * outWidth * cout
                for pixel in 0..<outHeight * outWidth { for c in 0..<cout { out[base + pixel * cout + c] = bias[c] } }
                columns.withUnsafeBufferPointer { col in
                    for y in 0..<height {
                        for ky in 0..<kernel.height {
                            let oy = y * stride.y + ky * dilation.y - crop.top
                            guard oy >= 0 && oy < outHeight else { continue }
                            for x in 0..<width {
                                for kx in 0..<kernel.width {
                                    let ox = x * stride.x + kx * dilation.x - crop.left
                                    guard ox >= 0 && ox < outWidth else { continue }
                                    let source = (y * width + x) * taps + (ky * kernel.width + kx) * cout, target = base + (oy * outWidth + ox) * cout
                                    for c in 0..<cout { out[target + c] += col[source + c] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
