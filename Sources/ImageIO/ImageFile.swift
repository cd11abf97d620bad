import CJPEG
import CSTB
import Foundation
import Platform

/// Errors reading images; each description is one line.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(String)
    case undecodable(path: String, reason: String)
    case tooLarge(path: String, width: Int, height: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "cannot open '\(path)': no such file"
        case .undecodable(let path, let reason): return "cannot decode '\(path)' as an image: \(reason)"
        case .tooLarge(let path, let width, let height):
            return "'\(path)' is \(width)×\(height) pixels, above the \(RGBImage.maximumPixels / 1_000_000) megapixel limit"
        }
    }
}

/// An 8-bit RGB image, row-major, channels last.
public struct RGBImage: Sendable {
    public let width: Int
    public let height: Int
    /// `height × width × 3` bytes.
    public let pixels: [UInt8]
    /// What the decoder warned of, if anything: a truncated JPEG decodes, its missing rows grey.
    public var warning: String?

    /// Images larger than this are refused before their pixels are allocated.
    public static let maximumPixels = 100_000_000

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes a PNG, JPEG or BMP file, converting grey and alpha images to RGB: JPEG with libjpeg-turbo (the
    /// decoder Pillow and torchvision use, so pixels match theirs), PNG and BMP with stb_image. The header's
    /// size is checked first, so a forged 20000×20000 header fails without allocating.
    public init(path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: Int(Int32.max) - 1)
        } catch .missing {
            throw ImageError.fileNotFound(path)
        } catch {
            throw ImageError.undecodable(path: path, reason: error.description)
        }
        guard !bytes.isEmpty else { throw ImageError.undecodable(path: path, reason: "empty file") }
        if bytes.starts(with: [0xFF, 0xD8]) {
            try self.init(jpeg: bytes, path: path)
            return
        }
        // stb_image reads only what it is the decoder for here: its other decoders (its own JPEG one, which takes
        // a file starting with fill bytes, GIF, PSD, TGA…) are not used, and its JPEG decoder aborted on an
        // assertion for a crafted file (found by fuzzing).
        guard Self.isPNGOrBMP(bytes) else {
            throw ImageError.undecodable(path: path, reason: "not a PNG, JPEG or BMP file")
        }
        var width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0
        guard stbi_info_from_memory(bytes, Int32(bytes.count), &width, &height, &channels) != 0 else {
            throw ImageError.undecodable(path: path, reason: String(cString: stbi_failure_reason()) + " (supported: PNG, JPEG, BMP)")
        }
        // stb_image reports a top-down BMP's height as stored, negative; it decodes it upright.
        let pixelCount = Int(width.magnitude) * Int(height.magnitude)
        guard width > 0, height != 0 else { throw ImageError.undecodable(path: path, reason: "zero-size image") }
        guard pixelCount <= Self.maximumPixels else {
            throw ImageError.tooLarge(path: path, width: Int(width), height: Int(height.magnitude))
        }
        guard let decoded = stbi_load_from_memory(bytes, Int32(bytes.count), &width, &height, &channels, 3) else {
            throw ImageError.undecodable(path: path, reason: String(cString: stbi_failure_reason()))
        }
        defer { stbi_image_free(decoded) }
        self.init(width: Int(width), height: Int(height),
                  pixels: Array(UnsafeBufferPointer(start: decoded, count: Int(width) * Int(height) * 3)))
    }

    /// Whether `bytes` start with the PNG signature or a BMP file header's `BM`.
    static func isPNGOrBMP(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) || bytes.starts(with: [0x42, 0x4D])
    }

    /// The NUL-terminated C string in `buffer`.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes JPEG bytes with libjpeg-turbo (islow DCT, fancy upsampling: its defaults, as Pillow uses them).
    init(jpeg bytes: [UInt8], path: String) throws {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = audionet_decode_jpeg(bytes, UInt(bytes.count), UInt(Self.maximumPixels), &pixels, &width, &height, &message)
        switch status {
        case 0:
            defer { free(pixels) }
            self.init(width: Int(width), height: Int(height), pixels: Array(UnsafeBufferPointer(start: pixels, count: Int(width) * Int(height) * 3)))
            if message[0] != 0 { warning = "JPEG: " + Self.text(message) }
        case 2:
            if width == 0 || height == 0 { throw ImageError.undecodable(path: path, reason: "zero-size image") }
            throw ImageError.tooLarge(path: path, width: Int(width), height: Int(height))
        default:
            throw ImageError.undecodable(path: path, reason: "JPEG: " + Self.text(message))
        }
    }

    /// Bilinear resize with half-pixel centres and no antialiasing (TensorFlow's `tf.image.resize`,
    /// PyTorch's `interpolate(align_corners=False)`), to Float32 `[height, width, 3]` in 0…255.
    public func resized(width targetWidth: Int, height targetHeight: Int) -> [Float] {
        var output = [Float](repeating: 0, count: targetWidth * targetHeight * 3)
        let scaleY = Double(height) / Double(targetHeight), scaleX = Double(width) / Double(targetWidth)
        func source(_ index: Int, _ scale: Double, _ limit: Int) -> (Int, Int, Float) {
            let position = max((Double(index) + 0.5) * scale - 0.5, 0)
            let lower = min(Int(position), limit - 1)
            return (lower, min(lower + 1, limit - 1), Float(position - Double(lower)))
        }
        let columns = (0..<targetWidth).map { source($0, scaleX, width) }
        for y in 0..<targetHeight {
            let (y0, y1, fy) = source(y, scaleY, height)
            for x in 0..<targetWidth {
                let (x0, x1, fx) = columns[x]
                for c in 0..<3 {
                    let a = Float(pixels[(y0 * width + x0) * 3 + c]), b = Float(pixels[(y0 * width + x1) * 3 + c])
                    let d = Float(pixels[(y1 * width + x0) * 3 + c]), e = Float(pixels[(y1 * width + x1) * 3 + c])
                    let top = a + (b - a) * fx, bottom = d + (e - d) * fx
                    output[(y * targetWidth + x) * 3 + c] = top + (bottom - top) * fy
                }
            }
        }
        return output
    }

    /// The central square crop covering `fraction` of the shorter side (torchvision's resize-then-center-crop
    /// convention with fraction 224/256 = 0.875).
    public func centerCropped(fraction: Double) -> RGBImage {
        let side = max(1, Int((Double(min(width, height)) * fraction).rounded()))
        let top = (height - side) / 2, left = (width - side) / 2
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            let from = ((top + y) * width + left) * 3
            pixels.replaceSubrange(y * side * 3..<(y + 1) * side * 3, with: self.pixels[from..<from + side * 3])
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// The `width × height` region whose top-left pixel is (`left`, `top`), inside the image; mirrored left to right
    /// when `mirrored`.
    public func cropped(left: Int, top: Int, width cropWidth: Int, height cropHeight: Int, mirrored: Bool = false) -> RGBImage {
        precondition(left >= 0 && top >= 0 && cropWidth > 0 && cropHeight > 0 && left + cropWidth <= width && top + cropHeight <= height)
        var pixels = [UInt8](repeating: 0, count: cropWidth * cropHeight * 3)
        for y in 0..<cropHeight {
            for x in 0..<cropWidth {
                let from = ((top + y) * width + left + (mirrored ? cropWidth - 1 - x : x)) * 3, to = (y * cropWidth + x) * 3
                pixels[to] = self.pixels[from]
                pixels[to + 1] = self.pixels[from + 1]
                pixels[to + 2] = self.pixels[from + 2]
            }
        }
        return RGBImage(width: cropWidth, height: cropHeight, pixels: pixels)
    }
}
