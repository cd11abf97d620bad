import CKernels

/// `output = activation(source · w + bias [+ addend])` for `rows` rows of `k` values against weights packed once at load
/// (``an_pack_panels``), bias, a residual `addend` and a clamping activation fused into the product's store
/// (``an_packed_gemm``): the product of an ungrouped 1×1 convolution, of a dense layer and of a ``ProjectionAdd``
/// where the packed product has its body.
///
/// Many rows go to the cores in equal shares, each taken in blocks of `blockRows` that stay in cache while an
/// activation the store cannot fuse (swish) runs on them; few rows (one image's late layers, a classifier at batch 1)
/// go as shares of the 16-column panels, each core then reading only its panels' weights.
struct PackedProduct {
    let k: Int
    let n: Int
    let packed: [Float]
    let bias: [Float]
    let activation: Activation

    func run(rows: Int, source: SharedReadPointer<Float>, adding addend: SharedReadPointer<Float>? = nil, output out: SharedPointer<Float>,
             blockRows: Int) {
        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        let (n, k, activation) = (n, k, activation), panels = Int(an_packed_panels(Int32(n)))
        packed.withUnsafeBufferPointer { packedBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let w = SharedReadPointer(packedBuffer.baseAddress!), b = SharedReadPointer(biasBuffer.baseAddress!)
                @Sendable func product(rows range: Range<Int>, panels: Range<Int>) {
                    an_packed_gemm(Int32(range.count), Int32(n), Int32(k), source.base + range.lowerBound * k, Int32(k), w.base,
                                   b.base, addend.map { $0.base + range.lowerBound * n }, low, high, out.base + range.lowerBound * n, Int32(n),
                                   Int32(panels.lowerBound), Int32(panels.count))
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
                    if bounds == nil {
                        Parallel.forEachShare(of: rows) { share in
                            activation.apply(out.base + share.lowerBound * n, count: share.count * n)
                        }
                    }
                }
            }
        }
    }
}
