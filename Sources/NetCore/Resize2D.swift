import Foundation

/// Resizing the spatial axes of NHWC tensors by nearest neighbour or bilinear interpolation, with ONNX Resize's
/// coordinate conventions (PyTorch's `interpolate` exports as one of them).
public struct Resize2D: Layer {
    public enum Mode: Sendable { case nearest, linear }
    /// How an output coordinate maps to the input's (ONNX `coordinate_transformation_mode`).
    public enum Coordinates: String, Sendable {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
        case asymmetric, tfHalfPixelForNN = "tf_half_pixel_for_nn"
    }
    /// How a fractional input coordinate picks its nearest neighbour (ONNX `nearest_mode`).
    public enum Rounding: String, Sendable {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
    }

    public let height: Int, width: Int
    /// The scales the coordinates divide by (output/input unless the file gives its own).
    public let scales: (y: Double, x: Double)?
    public let mode: Mode
    public let coordinates: Coordinates
    public let rounding: Rounding

    public init(height: Int, width: Int, scales: (y: Double, x: Double)? = nil, mode: Mode, coordinates: Coordinates = .halfPixel,
                rounding: Rounding = .roundPreferFloor) {
        (self.height, self.width, self.scales, self.mode, self.coordinates, self.rounding) = (height, width, scales, mode, coordinates, rounding)
    }

    public var typeName: String { mode == .nearest ? "ResizeNearest" : "ResizeBilinear" }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 1, rank: 3)
        return [height, width, inputs[0][2]]
    }

    /// The input coordinate of output coordinate `x` along an axis of `input` → `output` samples.
    func source(_ x: Int, input: Int, output: Int, scale: Double) -> Double {
        let x = Double(x)
        switch coordinates {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return output > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return output > 1 ? x * Double(input - 1) / Double(output - 1) : 0
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        }
    }

    /// Per output coordinate along an axis: the two input indices and the second one's weight.
    func taps(input: Int, output: Int, scale: Double) -> [(Int, Int, Float)] {
        (0..<output).map { o in
            let position = source(o, input: input, output: output, scale: scale)
            switch mode {
            case .nearest:
                let index: Double
                switch rounding {
                case .roundPreferFloor: index = position.rounded(.up) - position == 0.5 ? position.rounded(.down) : position.rounded()
                case .roundPreferCeil: index = position.rounded()
                case .floor: index = position.rounded(.down)
                case .ceil: index = position.rounded(.up)
                }
                let clamped = min(max(Int(index), 0), input - 1)
                return (clamped, clamped, 0)
            case .linear:
                let clamped = min(max(position, 0), Double(input - 1))
                let low = Int(clamped.rounded(.down))
                return (low, min(low + 1, input - 1), Float(clamped - Double(low)))
            }
        }
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let (batch, inHeight, inWidth, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let rows = taps(input: inHeight, output: height, scale: scales?.y ?? Double(height) / Double(inHeight))
        let columns = taps(input: inWidth, output: width, scale: scales?.x ?? Double(width) / Double(inWidth))
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { out in
                for image in 0..<batch {
                    let source = image * inHeight * inWidth * channels, target = image * height * width * channels
                    for (oy, (y0, y1, wy)) in rows.enumerated() {
                        for (ox, (x0, x1, wx)) in columns.enumerated() {
                            let o = target + (oy * width + ox) * channels
                            let a = source + (y0 * inWidth + x0) * channels, b = source + (y0 * inWidth + x1) * channels
                            let c = source + (y1 * inWidth + x0) * channels, d = source + (y1 * inWidth + x1) * channels
                            for k in 0..<channels {
                                let top = x[a + k] + (x[b + k] - x[a + k]) * wx, bottom = x[c + k] + (x[d + k] - x[c + k]) * wx
                                out[o + k] = top + (bottom - top) * wy
                            }
                        }
                    }
                }
            }
        }
    }
}
