import CKernels

extension Conv2D {
    /// im2col over chunks of output pixels (sized to stay in cache), each followed by one sgemm per group.
    func convolveByChunks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                  output out: SharedPointer<Float>, geometry g: WindowGeometry, rows: Int) {
        _ = GEMM.configure
        let groupInputs = inputChannels / groups, groupOutputs = outputChannels / groups
        let chunkRows = max(16, min(512, (64 * 1024) / depth))
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

    /// Copies the receptive fields of output pixels `firstRow..<firstRow+rows` into a `[rows, depth]` matrix.
    func im2col(_ input: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int,
                        geometry g: WindowGeometry, channelOffset: Int, channels: Int) {
        let pixelsPerImage = g.outputHeight * g.outputWidth
        for local in 0..<rows {
            let row = firstRow + local
            let image = row / pixelsPerImage, pixel = row % pixelsPerImage
            let oy = pixel / g.outputWidth, ox = pixel % g.outputWidth
            var destination = columns + local * depth
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
