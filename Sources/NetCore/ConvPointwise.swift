import CKernels

extension Conv2D {
    /// A 1×1 convolution as a GEMM over blocks of rows (one per group, on the group's channels in place), each block
    /// finished (bias, activation) while it is still in cache; small products run as one parallel GEMM per group.
    func pointwiseByBlocks(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, rows: Int) {
        _ = GEMM.configure
        let groupInputs = inputChannels / groups, groupOutputs = outputChannels / groups
        let blockRows = max(64, (256 * 1024) / (4 * max(inputChannels, outputChannels)))
        let blocks = (rows + blockRows - 1) / blockRows
        let workers = min(Parallel.threadCount, blocks)
        guard workers > 1 || blocks > 1 else {
            for group in 0..<groups {
                GEMM.parallel(m: rows, n: groupOutputs, k: groupInputs, a: source.base + group * groupInputs, lda: inputChannels,
                              b: w.base + group * groupOutputs, ldb: outputChannels, c: out.base + group * groupOutputs, ldc: outputChannels)
            }
            finishInParallel(out, rows: rows)
            return
        }
        Parallel.forEach(workers) { worker in
            var block = worker
            while block < blocks {
                let first = block * blockRows, count = min(blockRows, rows - first)
                for group in 0..<groups {
                    GEMM.serial(m: count, n: groupOutputs, k: groupInputs, a: source.base + first * inputChannels + group * groupInputs,
                                lda: inputChannels, b: w.base + group * groupOutputs, ldb: outputChannels,
                                c: out.base + first * outputChannels + group * groupOutputs, ldc: outputChannels)
                }
                finish(out.base + first * outputChannels, rows: count)
                block += workers
            }
        }
    }
}
