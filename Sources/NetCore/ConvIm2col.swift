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
                    g.im2col(source.base, inputChannels: inputChannels, into: columns, rowStride: depth, firstRow: first, rows: count,
                             channelOffset: group * groupInputs, channels: groupInputs, padding: 0)
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
        if rows < 64 * Parallel.threadCount && Parallel.threadCount > 1 && rows <= chunkRows {
            // Few rows (a late layer of one image): one im2col, then ``PackedProduct`` shares the panels among the cores,
            // each streaming its part of the weights rather than all of them (ResNet-50's last 3×3 convolutions: 49 rows,
            // 9.4 MB of weights).
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * k)
            defer { columns.deallocate() }
            g.im2col(source.base, inputChannels: inputChannels, into: columns, rowStride: k, firstRow: 0, rows: rows, channelOffset: 0,
                     channels: inputChannels, padding: 0)
            return PackedProduct(k: k, n: n, packed: packed, bias: bias, activation: activation)
                .run(rows: rows, source: SharedReadPointer(columns), output: out, blockRows: rows)
        }
        packed.withUnsafeBufferPointer { packedBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let w = SharedReadPointer(packedBuffer.baseAddress!), b = SharedReadPointer(biasBuffer.baseAddress!)
                // Equal shares of the rows, in whole 6-row tiles, each taken in chunks.
                Parallel.forEachShare(of: rows, granule: 6) { share in
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunkRows * k)
                    defer { columns.deallocate() }
                    for first in Swift.stride(from: share.lowerBound, to: share.upperBound, by: chunkRows) {
                        let count = min(chunkRows, share.upperBound - first)
                        g.im2col(source.base, inputChannels: inputChannels, into: columns, rowStride: k, firstRow: first, rows: count,
                                 channelOffset: 0, channels: inputChannels, padding: 0)
                        an_packed_gemm(Int32(count), Int32(n), Int32(k), columns, Int32(k), w.base, b.base, nil, low, high,
                                       out.base + first * n, Int32(n), 0, panels)
                        if bounds == nil { activation.apply(out.base + first * n, count: count * n) }
                    }
                }
            }
        }
    }
}
