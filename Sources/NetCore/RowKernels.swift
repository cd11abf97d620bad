import CKernels

extension WindowGeometry {
    /// The geometry in the C kernels' form.
    func kernelShape(inputChannels: Int, outputChannels: Int) -> AnWindowShape {
        AnWindowShape(inputHeight: Int32(inputHeight), inputWidth: Int32(inputWidth), inputChannels: Int32(inputChannels),
                      outputChannels: Int32(outputChannels), kernelHeight: Int32(kernelHeight), kernelWidth: Int32(kernelWidth),
                      strideY: Int32(strideY), strideX: Int32(strideX), dilationY: Int32(dilationY), dilationX: Int32(dilationX),
                      padTop: Int32(padTop), padLeft: Int32(padLeft), outputHeight: Int32(outputHeight), outputWidth: Int32(outputWidth))
    }
}

/// Runs a C kernel that computes output rows `first ..< first + count` of a batch, over one share of the rows
/// per core. A clamp activation (identity, ReLU, ReLU6) is passed to the kernel as bounds; any other runs
/// on each share afterwards.
func runRowKernel(rows: Int, rowSize: Int, activation: Activation, output: SharedPointer<Float>,
                  _ kernel: @Sendable (_ first: Int32, _ count: Int32, _ low: Float, _ high: Float) -> Void) {
    let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
    Parallel.forEachShare(of: rows) { share in
        let first = share.lowerBound, count = share.count
        kernel(Int32(first), Int32(count), low, high)
        if bounds == nil { activation.apply(output.base + first * rowSize, count: count * rowSize) }
    }
}
