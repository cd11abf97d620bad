import CKernels

extension Conv2D {
    /// A 1×1 convolution as a GEMM over blocks of rows, each finished (bias, activation) while it is still in
    /// cache; small products run as one parallel GEMM.
    func pointwiseByBlocks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, rows: Int) {
        _ = GEMM.configure
        let blockRows = max(64, (256 * 1024) / (4 * max(inputChannels, outputChannels)))
        let blocks = (rows + blockRows - 1) / blockRows
        let workers = min(Parallel.threadCount, blocks)
        guard workers > 1 || blocks > 1 else {
            GEMM.parallel(m: rows, n: outputChannels, k: inputChannels, a: source.base, lda: inputChannels,
                          b: w.base, ldb: outputChannels, c: out.base, ldc: outputChannels)
            finishInParallel(out, rows: rows)
            return
        }
        Parallel.forEach(workers) { worker in
            var block = worker
            while block < blocks {
                let first = block * blockRows, count = min(blockRows, rows - first)
                GEMM.serial(m: count, n: outputChannels, k: inputChannels, a: source.base + first * inputChannels, lda: inputChannels,
                            b: w.base, ldb: outputChannels, c: out.base + first * outputChannels, ldc: outputChannels)
                finish(out.base + first * outputChannels, rows: count)
                block += workers
            }
        }
    }
}
