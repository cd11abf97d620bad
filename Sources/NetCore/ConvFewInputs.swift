import CKernels

extension Conv2D {
    /// The direct kernel for few input channels, over shares of the output rows.
    func convolveFewInputs(source: SharedReadPointer<Float>, weights w: SharedReadPointer<Float>,
                                   output out: SharedPointer<Float>, geometry g: WindowGeometry, batch: Int) {
        var shape = g.kernelShape(inputChannels: inputChannels, outputChannels: outputChannels)
        bias.withUnsafeBufferPointer { biasBuffer in
            withUnsafePointer(to: &shape) { pointer in
                let shape = SharedReadPointer(pointer), b = SharedReadPointer(biasBuffer.baseAddress!)
                runRowKernel(rows: batch * g.outputHeight, rowSize: g.outputWidth * outputChannels, activation: activation, output: out) {
                    first, count, low, high in
                    an_conv_few_inputs(shape.base, source.base, w.base, b.base, first, count, low, high, out.base)
                }
            }
        }
    }
}
