import CCairo
import Foundation

/// Where a text's anchor point lies on it: 0 left (top), 0.5 centre, 1 right (bottom).
public struct TextAnchor: Sendable {
    public var horizontal: Double, vertical: Double

    public init(_ horizontal: Double, _ vertical: Double) {
        self.horizontal = horizontal
        self.vertical = vertical
    }
}

extension Canvas {
    func setColor(_ color: Color, alpha: Double = 1) { cairo_set_source_rgba(context, color.red, color.green, color.blue, alpha) }

    /// Fills `rect` with `color`.
    public func fill(_ rect: Rect, _ color: Color, alpha: Double = 1) {
        setColor(color, alpha: alpha)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_fill(context)
    }

    /// Outlines `rect`.
    public func stroke(_ rect: Rect, _ color: Color, lineWidth: Double = 1) {
        setColor(color)
        cairo_set_line_width(context, lineWidth)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_stroke(context)
    }

    /// A polyline through `points`; a NaN coordinate breaks it.
    public func line(_ points: [(x: Double, y: Double)], _ color: Color, lineWidth: Double = 1) {
        setColor(color)
        cairo_set_line_width(context, lineWidth)
        var open = false
        for point in points {
            guard point.x.isFinite && point.y.isFinite else {
                open = false
                continue
            }
            if open { cairo_line_to(context, point.x, point.y) } else { cairo_move_to(context, point.x, point.y) }
            open = true
        }
        cairo_stroke(context)
    }

    /// A filled dot of `radius` at `point`.
    public func dot(_ point: (x: Double, y: Double), radius: Double, _ color: Color, alpha: Double = 1) {
        setColor(color, alpha: alpha)
        cairo_arc(context, point.x, point.y, radius, 0, 2 * Double.pi)
        cairo_fill(context)
    }

    /// `text` of `size` pixels at `point`, placed by `anchor`, turned by `degrees` (counter-clockwise) about the point.
    public func text(_ text: String, at point: (x: Double, y: Double), size: Double = 12, anchor: TextAnchor = TextAnchor(0, 0),
                     color: Color = .black, degrees: Double = 0) {
        cairo_save(context)
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        cairo_translate(context, point.x, point.y)
        cairo_rotate(context, -degrees * Double.pi / 180)
        // The font's ascent keeps a row of labels on one baseline whatever their letters.
        let ascent = size * 0.76
        cairo_move_to(context, -extents.x_advance * anchor.horizontal, ascent * (1 - anchor.vertical))
        setColor(color)
        cairo_show_text(context, text)
        cairo_restore(context)
    }

    /// The width `text` takes at `size`.
    public func textWidth(_ text: String, size: Double = 12) -> Double {
        cairo_save(context)
        defer { cairo_restore(context) }
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        return extents.x_advance
    }

    /// A heat map of `values` (`rows` × `columns`, row-major) stretched over `rect`, its first row at the bottom;
    /// each value coloured by `colormap` over `range` (clamped), NaN left white. More columns than `rect` has pixels
    /// (a long file's frames) are merged by their maximum, so a brief event still shows.
    public func heatmap(_ values: [Float], rows: Int, columns: Int, in rect: Rect, colormap: Colormap, range: ClosedRange<Double>) {
        guard rows > 0, columns > 0, rows <= 4096 else { return }
        let width = max(1, Int(rect.width.rounded(.up)))
        let group = (columns + width - 1) / width, drawn = (columns + group - 1) / group
        let image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(drawn), Int32(rows))
        defer { cairo_surface_destroy(image) }
        guard cairo_surface_status(image) == CAIRO_STATUS_SUCCESS else { return }
        cairo_surface_flush(image)
        let stride = Int(cairo_image_surface_get_stride(image)) / 4
        // RGB24 pixels are 32-bit words (0x00RRGGBB), rows `stride` words apart.
        let pixels = UnsafeMutableRawPointer(cairo_image_surface_get_data(image)!).assumingMemoryBound(to: UInt32.self)
        let span = max(range.upperBound - range.lowerBound, .leastNonzeroMagnitude)
        for row in 0..<rows {
            for column in 0..<drawn {
                let merged = values[row * columns + column * group..<row * columns + min((column + 1) * group, columns)].filter { !$0.isNaN }
                let value = merged.max().map(Double.init) ?? .nan
                let color = value.isNaN ? .white : colormap.color(at: (value - range.lowerBound) / span)
                pixels[(rows - 1 - row) * stride + column] = UInt32(color.red * 255) << 16 | UInt32(color.green * 255) << 8 | UInt32(color.blue * 255)
            }
        }
        cairo_surface_mark_dirty(image)
        cairo_save(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        cairo_translate(context, rect.x, rect.y)
        cairo_scale(context, rect.width / Double(drawn), rect.height / Double(rows))
        cairo_set_source_surface(context, image, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
        cairo_paint(context)
        cairo_restore(context)
    }
}
