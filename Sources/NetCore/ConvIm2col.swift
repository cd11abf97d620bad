import CKernels

extension Conv2D {
    /// im2col over chunks of output pixels (sized to stay in cache), each followed by one sgemm per group.
    func convolveByChunks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                  output out: SharedPointer<Float>, geometry g: WindowGeometry, rows: Int) {
        // Chunks of about 1 MB of columns: smaller ones stream a late layer's weights once per chunk (ResNet-50's last
        // 3×3 convolutions, 9.4 MB of weights for 49 pixels: 3.1 ms in chunks of 16 rows, 2.2 in one).
        let chunkRows = max(16, min(512, (256 * 1024) / depth))
        if let packed = packedPanels, an_packed_gemm_has_body() != 0 {
            return convolveByPackedChunks(source: source, packed: packed, output: out, geometry: g, rows: rows, chunkRows: chunkRows)
        }
        _ = GEMM.configure
        let groupInputs = inputChannels / groups, groupOutputs = outputChannels / groups
        let chunks = (rows + chunkRows - 1) / chunkRows
        let workers = min(Parallel.threadCount, chunks)
        Parallel.forEach(workers) { worker in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunkRows * depth)
            defer { columns.deallocate() }
            var chunk = worker
            while chunk < chunks {
                let first = chunk * chunkRows, count = min(chunkRows, rows - first)
                for group in 0..<groups {
                    im2col(source.base, into: columns, firstRow: first, rows: count, geometry: g,
                           channelOffset: group * groupInputs, channels: groupInputs)
                    GEMM.serial(m: count, n: groupOutputs, k: depth, a: columns, lda: depth,
                                b: w.base + group * groupOutputs, ldb: outputChannels,
                                c: out.base + first * outputChannels + group * groupOutputs, ldc: outputChannels)
                }
                finish(out.base + first * outputChannels, rows: count)
                chunk += workers
            }
        }
    }

    /// The same chunks of an ungrouped convolution against its packed weights, bias and clamp fused (``an_packed_gemm``).
    private func convolveByPackedChunks(source: SharedReadPointer<Float>, packed: [Float], output out: SharedPointer<Float>,
                                        geometry g: WindowGeometry, rows: Int, chunkRows: Int) {
        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        let (n, k) = (outputChannels, depth), panels = an_packed_panels(Int32(outputChannels))
        packed.withUnsafeBufferPointer { packedBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let w = SharedReadPointer(packedBuffer.baseAddress!), b = SharedReadPointer(biasBuffer.baseAddress!)
                // Equal shares of the rows, in whole 6-row tiles, each taken in chunks.
                Parallel.forEachShare(of: rows, granule: 6) { share in
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunkRows * k)
                    defer { columns.deallocate() }
                    for first in Swift.stride(from: share.lowerBound, to: share.upperBound, by: chunkRows) {
                        let count = min(chunkRows, share.upperBound - first)
                        im2col(source.base, into: columns, firstRow: first, rows: count, geometry: g, channelOffset: 0, channels: inputChannels)
                        an_packed_gemm(Int32(count), Int32(n), Int32(k), columns, Int32(k), w.base, b.base, nil, low, high,
                                       out.base + first * n, Int32(n), 0, panels)
                        if bounds == nil { activation.apply(out.base + first * n, count: count * n) }
                    }
                }
            }
        }
    }

    /// Copies the receptive fields of output pixels `firstRow..<firstRow+rows` into a `[rows, depth]` matrix.
    func im2col(_ input: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int,
                        geometry g: WindowGeometry, channelOffset: Int, channels: Int) {
        let pixelsPerImage = g.outputHeight * g.outputWidth
        for local in 0..<rows {
            let row = firstRow + local
            let image = row / pixelsPerImage, pixel = row % pixelsPerImage
            let oy = pixel / g.outputWidth, ox = pixel % g.outputWidth
            var destination = columns + local * depth
            // All channels of neighbouring pixels lie side by side in memory: a window's run of pixels is one copy.
            let contiguous = channels == inputChannels
            if contiguous && g.inputWidth == 1 && g.kernelWidth == 1 && g.outputWidth == 1 && g.padLeft == 0 && g.dilationY == 1 {
                // A width-1 image (CREPE's frames): the whole receptive field is one run of the column.
                let top = oy * g.strideY - g.padTop
                let lead = min(max(-top, 0), g.kernelHeight), valid = max(min(top + g.kernelHeight, g.inputHeight) - max(top, 0), 0)
                destination.update(repeating: 0, count: lead * channels)
                (destination + lead * channels).update(from: input + (image * g.inputHeight + max(top, 0)) * channels, count: valid * channels)
                (destination + (lead + valid) * channels).update(repeating: 0, count: (g.kernelHeight - lead - valid) * channels)
                continue
            }
            if contiguous && g.dilationX == 1 {
                let left = ox * g.strideX - g.padLeft
                let lead = min(max(-left, 0), g.kernelWidth), valid = max(min(left + g.kernelWidth, g.inputWidth) - max(left, 0), 0)
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    if iy >= 0 && iy < g.inputHeight {
                        destination.update(repeating: 0, count: lead * channels)
                        (destination + lead * channels).update(from: input + ((image * g.inputHeight + iy) * g.inputWidth + max(left, 0)) * channels,
                                                              count: valid * channels)
                        (destination + (lead + valid) * channels).update(repeating: 0, count: (g.kernelWidth - lead - valid) * channels)
                    } else {
                        destination.update(repeating: 0, count: g.kernelWidth * channels)
                    }
                    destination += g.kernelWidth * channels
                }
                continue
            }
            for ky in 0..<g.kernelHeight {
                let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                for kx in 0..<g.kernelWidth {
                    let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                    if iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth {
                        let offset = ((image * g.inputHeight + iy) * g.inputWidth + ix) * inputChannels + channelOffset
                        destination.update(from: input + offset, count: channels)
                    } else {
                        destination.update(repeating: 0, count: channels)
                    }
                    destination += channels
                }
            }
        }
    }
}
