extension Conv2D {
    /// A height-only convolution of short width-1 images (CREPE's last layers: 64 taps over 8 or 16 rows) as one GEMM
    /// per output row and tap over the whole batch, skipping the taps that read only padding. When the output is shorter
    /// than the kernel this does fewer multiplies than FFT and keeps no transformed weights.
    func convolveByRows(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                        output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        let cin = inputChannels, cout = outputChannels, height = g.inputHeight
        Parallel.forEach(g.outputHeight) { row in
            let target = out.base + row * cout
            let taps = readingTaps(row: row, geometry: g)
            for tap in taps {
                GEMM.serial(m: batch, n: cout, k: cin, a: source.base + (row * stride.y + tap - g.padTop) * cin, lda: height * cin,
                            b: w.base + tap * cin * cout, ldb: cout, c: target, ldc: g.outputHeight * cout, beta: tap == taps.lowerBound ? 0 : 1)
            }
            if taps.isEmpty {
                for image in 0..<batch { (target + image * g.outputHeight * cout).update(repeating: 0, count: cout) }
            }
        }
        finishInParallel(out, rows: batch * g.outputHeight)
    }

    /// The taps of a height-only kernel whose input row for output `row` lies inside the image.
    func readingTaps(row: Int, geometry g: WindowGeometry) -> Range<Int> {
        let top = row * stride.y - g.padTop
        let first = max(0, -top), last = min(kernel.height, g.inputHeight - top)
        return first..<max(first, last)
    }
}
