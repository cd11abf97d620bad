extension WindowGeometry {
    /// Copies the receptive fields of output pixels `firstRow..<firstRow+rows` (over the batch) into rows of `columns`,
    /// `rowStride` apart: each row holds `kernelHeight × kernelWidth × channels` values, taps in order, the channels
    /// `channelOffset ..< channelOffset + channels` of an NHWC input with `inputChannels` channels; taps in the padding
    /// hold `padding` (0 for floats, the zero point for quantized bytes). The bytes of a row past its values are left
    /// as they are.
    func im2col<Scalar>(_ input: UnsafePointer<Scalar>, inputChannels: Int, into columns: UnsafeMutablePointer<Scalar>,
                        rowStride: Int, firstRow: Int, rows: Int, channelOffset: Int, channels: Int, padding: Scalar) {
        let pixelsPerImage = outputHeight * outputWidth
        for local in 0..<rows {
            let row = firstRow + local
            let image = row / pixelsPerImage, pixel = row % pixelsPerImage
            let oy = pixel / outputWidth, ox = pixel % outputWidth
            var destination = columns + local * rowStride
            // All channels of neighbouring pixels lie side by side in memory: a window's run of pixels is one copy.
            let contiguous = channels == inputChannels
            if contiguous && inputWidth == 1 && kernelWidth == 1 && outputWidth == 1 && padLeft == 0 && dilationY == 1 {
                // A width-1 image (CREPE's frames): the whole receptive field is one run of the column.
                let top = oy * strideY - padTop
                let lead = min(max(-top, 0), kernelHeight), valid = max(min(top + kernelHeight, inputHeight) - max(top, 0), 0)
                destination.update(repeating: padding, count: lead * channels)
                (destination + lead * channels).update(from: input + (image * inputHeight + max(top, 0)) * channels, count: valid * channels)
                (destination + (lead + valid) * channels).update(repeating: padding, count: (kernelHeight - lead - valid) * channels)
                continue
            }
            if contiguous && dilationX == 1 {
                let left = ox * strideX - padLeft
                let lead = min(max(-left, 0), kernelWidth), valid = max(min(left + kernelWidth, inputWidth) - max(left, 0), 0)
                for ky in 0..<kernelHeight {
                    let iy = oy * strideY - padTop + ky * dilationY
                    if iy >= 0 && iy < inputHeight {
                        destination.update(repeating: padding, count: lead * channels)
                        (destination + lead * channels).update(from: input + ((image * inputHeight + iy) * inputWidth + max(left, 0)) * channels,
                                                              count: valid * channels)
                        (destination + (lead + valid) * channels).update(repeating: padding, count: (kernelWidth - lead - valid) * channels)
                    } else {
                        destination.update(repeating: padding, count: kernelWidth * channels)
                    }
                    destination += kernelWidth * channels
                }
                continue
            }
            for ky in 0..<kernelHeight {
                let iy = oy * strideY - padTop + ky * dilationY
                for kx in 0..<kernelWidth {
                    let ix = ox * strideX - padLeft + kx * dilationX
                    if iy >= 0 && iy < inputHeight && ix >= 0 && ix < inputWidth {
                        let offset = ((image * inputHeight + iy) * inputWidth + ix) * inputChannels + channelOffset
                        destination.update(from: input + offset, count: channels)
                    } else {
                        destination.update(repeating: padding, count: channels)
                    }
                    destination += channels
                }
            }
        }
    }
}
