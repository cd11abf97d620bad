import CKernels

extension Conv2D {
    /// A height-only convolution of width-1 images (CREPE's 1-D convolutions) as a sum over taps: the input
    /// rows a tap reads are consecutive, so each tap is one sgemm on the zero-padded image with no im2col.
    /// Used for tall outputs only: each sgemm has the output height as its row count.
    func convolveByTaps(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        let channels = inputChannels, taps = kernel.height
        let paddedHeight = max(g.inputHeight + g.padTop, (g.outputHeight - 1) + taps)
        Parallel.forEach(batch, scratch: paddedHeight * channels) { image, padded in
            padded.update(repeating: 0, count: paddedHeight * channels)
            (padded + g.padTop * channels).update(from: source.base + image * g.inputHeight * channels,
                                                  count: g.inputHeight * channels)
            let target = out.base + image * g.outputHeight * outputChannels
            for tap in 0..<taps {
                GEMM.serial(m: g.outputHeight, n: outputChannels, k: channels, a: padded + tap * channels, lda: channels,
                            b: w.base + tap * channels * outputChannels, ldb: outputChannels,
                            c: target, ldc: outputChannels, beta: tap == 0 ? 0 : 1)
            }
            finish(target, rows: g.outputHeight)
        }
    }
}
