import CKernels

/// A depthwise convolution's output rows band by band, the input rows each band reads held zero-padded in a buffer that
/// stays in cache (``an_depthwise_padded``'s layout): how ``ExpandedDepthwise`` convolves the rows it expands.
/// The rows a band shares with the band before it move up rather than being filled again.
struct PaddedBands {
    let geometry: WindowGeometry
    let shape: AnWindowShape
    let channels: Int
    /// The channels one share convolves: all of them, or those of some 16-channel panels.
    let slice: Range<Int>
    /// Pixels in a padded row (``an_depthwise_padded_width``) and floats between padded rows.
    let paddedWidth, rowStride: Int
    /// Output rows a band computes, and the input rows one output row reads.
    let band, halo: Int
    /// Padded columns `begin ..< end` hold input columns `0 ..< end − begin`; the others are padding (or never read).
    let begin, end: Int

    /// Bands of a convolution of `geometry` on `channels` channels whose padded rows take at most `bandBytes` bytes.
    init(geometry g: WindowGeometry, channels: Int, slice: Range<Int>, bandBytes: Int) {
        geometry = g
        var shape = g.kernelShape(inputChannels: channels, outputChannels: channels)
        self.shape = shape
        self.channels = channels
        self.slice = slice
        paddedWidth = Int(an_depthwise_padded_width(&shape))
        rowStride = paddedWidth * channels
        halo = (g.kernelHeight - 1) * g.dilationY + 1
        band = Int(an_depthwise_band_rows(&shape, bandBytes))
        begin = min(g.padLeft, paddedWidth)
        end = min(g.padLeft + g.inputWidth, paddedWidth)
    }

    /// Padded rows a band reads at most.
    var bandHeight: Int { (band - 1) * geometry.strideY + halo }

    /// `body` on the slice's channels of `pixels` pixels, as offsets from the first pixel's first channel and counts:
    /// one run when the slice is every channel.
    func forSlice(of pixels: Int, _ body: (_ offset: Int, _ count: Int) -> Void) {
        if slice.count == channels { return body(0, pixels * channels) }
        for pixel in 0..<pixels { body(pixel * channels + slice.lowerBound, slice.count) }
    }

    /// Output rows `rows` (counted over the batch), band by band: `fill(image, firstY, count, target)` writes input rows
    /// `firstY ..< firstY + count` of `image` (all inside it), the slice's channels, to padded rows from `target` on —
    /// columns `begin ..< end`; it may write the padding's columns too, which are zeroed after it — then
    /// `convolve(padded, row, count)` computes output rows `row ..< row + count` (of one image) from the padded rows.
    func run(rows: Range<Int>,
             fill: (_ image: Int, _ firstY: Int, _ count: Int, _ target: UnsafeMutablePointer<Float>) -> Void,
             convolve: (_ padded: UnsafePointer<Float>, _ row: Int, _ count: Int) -> Void) {
        let g = geometry
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: bandHeight * rowStride)
        defer { padded.deallocate() }
        var held = (image: -1, firstY: 0, end: 0)  // `padded` holds input rows firstY ..< end of the image
        var row = rows.lowerBound
        while row < rows.upperBound {
            let image = row / g.outputHeight, oy = row % g.outputHeight
            let count = min(band, rows.upperBound - row, g.outputHeight - oy)  // a band stays in one image
            let firstY = oy * g.strideY - g.padTop, height = (count - 1) * g.strideY + halo
            let kept = held.image == image ? max(0, held.end - firstY) : 0
            if kept > 0 {
                UnsafeMutableRawPointer(padded).copyMemory(from: padded + (firstY - held.firstY) * rowStride,
                                                           byteCount: kept * rowStride * MemoryLayout<Float>.size)
            }
            var r = kept
            while r < height {
                if firstY + r < 0 || firstY + r >= g.inputHeight {
                    forSlice(of: paddedWidth) { (padded + r * rowStride + $0).update(repeating: 0, count: $1) }
                    r += 1
                } else {
                    let count = min(height, g.inputHeight - firstY) - r
                    fill(image, firstY + r, count, padded + r * rowStride)
                    for filled in r..<r + count {
                        let line = padded + filled * rowStride
                        forSlice(of: begin) { (line + $0).update(repeating: 0, count: $1) }
                        forSlice(of: paddedWidth - end) { (line + end * channels + $0).update(repeating: 0, count: $1) }
                    }
                    r += count
                }
            }
            held = (image, firstY, firstY + height)
            convolve(padded, row, count)
            row += count
        }
    }
}
