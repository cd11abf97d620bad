import ImageIO
import Models
import NetCore

extension ImagePreprocessing {
    /// The network input `[1, size, size, 3]` for an image: the whole image (or its central 87.5 % square with
    /// `centerCrop`: a 224 crop of the shorter side at 256) resized bilinearly, then normalized, its channels in the
    /// network's order.
    public func input(for image: RGBImage, centerCrop: Bool = false) -> Tensor {
        let source = centerCrop ? image.centerCropped(fraction: 0.875) : image
        let pixels = source.resized(width: size, height: size)
        let channels = bgr ? [2, 1, 0] : [0, 1, 2]
        return Tensor(shape: [1, size, size, 3], scalars: pixels.indices.map { i in
            let c = channels[i % 3]
            return (pixels[i - i % 3 + c] - mean[c]) / std[c]
        })
    }
}
