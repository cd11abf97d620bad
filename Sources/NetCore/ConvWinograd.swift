extension Conv2D {
    /// A 3×3 stride-1 convolution by Winograd F(4×4, 3×3) on pre-transformed weights (``WinogradKernel``): the
    /// output transform adds the bias and applies a clamp activation; other activations run after.
    func convolveByWinograd(source: SharedReadPointer<Float>, output out: SharedPointer<Float>, geometry g: WindowGeometry,
                            batch: Int, rows: Int) {
        let bounds = activation.clampBounds, (low, high) = bounds ?? (-.infinity, .infinity)
        bias.withUnsafeBufferPointer { b in
            winograd!.run(input: source, output: out, batch: batch, geometry: g, bias: SharedReadPointer(b.baseAddress!), low: low, high: high)
        }
        if bounds == nil { finishInParallel(out, rows: rows, addingBias: false) }
    }
}
