import CCairo
import Foundation
import Platform

/// Why a plot cannot be drawn or written; one line.
public struct PlotError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// A picture drawn with cairo: a PNG (pixels) or an SVG (vectors), in pixel units with the origin at the top left.
/// ``write(to:)`` goes through ``OutputFile`` (a failed write leaves an existing file untouched).
public final class Canvas {
    public enum Format: String, Sendable {
        case png, svg
    }

    public let width: Double
    public let height: Double
    public let format: Format
    let surface: OpaquePointer
    let context: OpaquePointer
    /// The SVG's bytes, streamed by cairo as it draws.
    private let sink = ByteSink()

    /// A white canvas of `width` × `height` pixels.
    public init(width: Int, height: Int, format: Format) {
        self.width = Double(width)
        self.height = Double(height)
        self.format = format
        switch format {
        case .png: surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        case .svg: surface = cairo_svg_surface_create_for_stream(ByteSink.write, Unmanaged.passUnretained(sink).toOpaque(), Double(width), Double(height))
        }
        context = cairo_create(surface)
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        fill(Rect(x: 0, y: 0, width: self.width, height: self.height), .white)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    /// The format a plot path asks for by its extension, or an error naming the ones there are.
    public static func format(of path: String) throws -> Format {
        guard let format = Format(rawValue: (path as NSString).pathExtension.lowercased()) else {
            throw PlotError("a plot is written as .png or .svg, not '\(path)'")
        }
        return format
    }

    /// Writes the picture to `path` as its format.
    public func write(to path: String) throws {
        cairo_surface_flush(surface)
        switch format {
        case .png:
            let png = ByteSink()
            guard cairo_surface_write_to_png_stream(surface, ByteSink.write, Unmanaged.passUnretained(png).toOpaque()) == CAIRO_STATUS_SUCCESS else {
                throw PlotError("cairo could not encode the PNG")
            }
            try OutputFile.write(png.bytes, to: path)
        case .svg:
            cairo_surface_finish(surface)
            guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else { throw PlotError("cairo could not write the SVG") }
            try OutputFile.write(sink.bytes, to: path)
        }
    }
}

/// Bytes cairo writes through a stream callback.
final class ByteSink {
    var bytes: [UInt8] = []

    static let write: cairo_write_func_t = { closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
    }
}

/// A rectangle in canvas pixels.
public struct Rect: Sendable {
    public var x: Double, y: Double, width: Double, height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// An RGB colour, each component in 0…1.
public struct Color: Sendable, Equatable {
    public var red: Double, green: Double, blue: Double

    public init(_ red: Double, _ green: Double, _ blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = Color(1, 1, 1)
    public static let black = Color(0, 0, 0)
    public static let gray = Color(0.45, 0.45, 0.45)
}
