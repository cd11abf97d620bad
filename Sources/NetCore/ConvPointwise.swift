import CKernels

extension Conv2D {
    /// A 1×1 convolution as a GEMM over equal shares of the rows, each taken in cache-sized blocks (one GEMM per group,
    /// on the group's channels in place) and finished (bias, activation) while still in cache; few rows (one image's
    /// late layers) run as one parallel GEMM per group.
    func pointwiseByBlocks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, rows: Int) {
        let blockRows = max(64, (256 * 1024) / (4 * max(inputChannels, outputChannels)))
        if let packed = packedPanels, an_packed_gemm_has_body() != 0 {
            return pointwiseByPanels(source: source, packed: packed, output: out, rows: rows, blockRows: blockRows)
        }
        _ = GEMM.configure
        let groupInputs = inputChannels / groups, groupOutputs = outputChannels / groups
        guard rows >= 64 * Parallel.threadCount || Parallel.threadCount == 1 else {
            for group in 0..<groups {
                GEMM.parallel(m: rows, n: groupOutputs, k: groupInputs, a: source.base + group * groupInputs, lda: inputChannels,
                              b: w.base + group * groupOutputs, ldb: outputChannels, c: out.base + group * groupOutputs, ldc: outputChannels)
            }
            finishInParallel(out, rows: rows)
            return
        }
        // Equal shares: handing out whole blocks left a 28×28 layer's two cores 682 rows against 102.
        Parallel.forEachShare(of: rows) { share in
            for first in Swift.stride(from: share.lowerBound, to: share.upperBound, by: blockRows) {
                let count = min(blockRows, share.upperBound - first)
                for group in 0..<groups {
                    GEMM.serial(m: count, n: groupOutputs, k: groupInputs, a: source.base + first * inputChannels + group * groupInputs,
                                lda: inputChannels, b: w.base + group * groupOutputs, ldb: outputChannels,
                                c: out.base + first * outputChannels + group * groupOutputs, ldc: outputChannels)
                }
                finish(out.base + first * outputChannels, rows: count)
            }
        }
    }

    /// An ungrouped 1×1 convolution against its packed weights, bias and clamp fused (``an_packed_gemm``): equal shares
    /// of the rows over the cores, each taken in cache-sized blocks, or, with few rows (one image's late layers),
    /// shares of the 16-column panels, each core then reading only its panels' weights.
    private func pointwiseByPanels(source: SharedReadPointer<Float>, packed: [Float], output out: SharedPointer<Float>,
                                   rows: Int, blockRows: Int) {
        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        let (n, k) = (outputChannels, inputChannels), panels = Int(an_packed_panels(Int32(outputChannels)))
        packed.withUnsafeBufferPointer { packedBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let w = SharedReadPointer(packedBuffer.baseAddress!), b = SharedReadPointer(biasBuffer.baseAddress!)
                @Sendable func product(rows range: Range<Int>, panels: Range<Int>) {
                    an_packed_gemm(Int32(range.count), Int32(n), Int32(k), source.base + range.lowerBound * k, Int32(k), w.base,
                                   b.base, low, high, out.base + range.lowerBound * n, Int32(n), Int32(panels.lowerBound), Int32(panels.count))
                }
                if rows >= 64 * Parallel.threadCount || panels == 1 {
                    // Shares in whole 6-row tiles (the kernel's), so that only the last share has a partial tile.
                    Parallel.forEachShare(of: rows, granule: 6) { share in
                        for first in Swift.stride(from: share.lowerBound, to: share.upperBound, by: blockRows) {
                            let block = first..<min(first + blockRows, share.upperBound)
                            product(rows: block, panels: 0..<panels)
                            if bounds == nil { activation.apply(out.base + first * n, count: block.count * n) }
                        }
                    }
                } else {
                    Parallel.forEachShare(of: panels) { share in product(rows: 0..<rows, panels: share) }
                    if bounds == nil { finishInParallel(out, rows: rows, addingBias: false) }
                }
            }
        }
    }
}
