import CKernels

extension Conv2D {
    /// A 1×1 convolution as a GEMM over equal shares of the rows, each taken in cache-sized blocks (one GEMM per group,
    /// on the group's channels in place) and finished (bias, activation) while still in cache; few rows (one image's
    /// late layers) run as one parallel GEMM per group.
    func pointwiseByBlocks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, rows: Int) {
        let blockRows = max(64, (256 * 1024) / (4 * max(inputChannels, outputChannels)))
        if let packed = packedPanels, an_packed_gemm_has_body() != 0 {
            return PackedProduct(k: inputChannels, n: outputChannels, packed: packed, bias: bias, activation: activation)
                .run(rows: rows, source: source, output: out, blockRows: blockRows)
        }
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
}
