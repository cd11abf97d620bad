import Foundation
import ImageIO

/// Random changes to a training example before the network, so that the head sees more varied examples than the
/// files hold. Audio (the gain, shift and noise of TensorFlow's audio data-augmentation tutorial): each augmented copy
/// of a file gets a random gain, a random time shift, and white noise at a set signal-to-noise ratio. Images: a random
/// crop and a random left-right flip (torchvision's `RandomResizedCrop` and `RandomHorizontalFlip`, the crop's area
/// kept within ``cropArea`` of the image's at its own aspect ratio).
public struct Augmentation: Sendable, Equatable {
    /// Augmented copies of each training file, besides the file itself.
    public var copies: Int
    /// The largest gain change, in dB either way.
    public var gainDecibels: Float = 6
    /// The largest shift, in seconds either way: later behind silence, or earlier with the start cut.
    public var shiftSeconds: Double = 0.1
    /// Signal-to-noise ratio of the added white noise, in dB.
    public var noiseSNR: Float = 20

    public init(copies: Int) { self.copies = copies }

    /// The smallest share of an image's area a crop keeps.
    public var cropArea = 0.6

    /// The settings as recorded in a model file.
    var record: [String: String] {
        ["augmentCopies": "\(copies)", "augmentGainDecibels": "\(gainDecibels)", "augmentShiftSeconds": "\(shiftSeconds)",
         "augmentNoiseSNR": "\(noiseSNR)", "augmentCropArea": "\(cropArea)"]
    }

    /// A random crop of `image` covering `cropArea`…1 of its area, at a random place, mirrored half the time.
    public func apply(_ image: RGBImage, using generator: inout some RandomNumberGenerator) -> RGBImage {
        let side = Double.random(in: cropArea...1, using: &generator).squareRoot()
        let width = max(1, Int(Double(image.width) * side)), height = max(1, Int(Double(image.height) * side))
        return image.cropped(left: Int.random(in: 0...(image.width - width), using: &generator),
                             top: Int.random(in: 0...(image.height - height), using: &generator), width: width, height: height,
                             mirrored: Bool.random(using: &generator))
    }

    /// `samples` (at `sampleRate`) shifted, scaled and with noise added, drawn from `generator`.
    public func apply(_ samples: [Float], sampleRate: Int, using generator: inout some RandomNumberGenerator) -> [Float] {
        let limit = Int(shiftSeconds * Double(sampleRate))
        let shift = limit > 0 ? Int.random(in: -limit...limit, using: &generator) : 0
        var result = shift >= 0 ? [Float](repeating: 0, count: shift) + samples : Array(samples.dropFirst(-shift))
        let gain = Float(pow(10, Double(Float.random(in: -gainDecibels...gainDecibels, using: &generator)) / 20))
        let power = result.reduce(0) { $0 + Double($1) * Double($1) } / Double(max(result.count, 1)) * Double(gain * gain)
        let sigma = Float((power / pow(10, Double(noiseSNR) / 10)).squareRoot())
        for index in result.indices {
            // Box–Muller: a standard normal from two uniforms.
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
            result[index] = result[index] * gain + sigma * Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        }
        return result
    }
}
