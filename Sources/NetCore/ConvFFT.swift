extension Conv2D {
    /// A tall 1-D kernel on width-1 images (CREPE's 64 taps over 128…2048 channels, its first layer's 512 taps at
    /// stride 4) by FFT: the transforms cost less than the taps they save. The transformed weights are made once per
    /// input height.
    func convolveByFFT(source: SharedReadPointer<Float>, output out: SharedPointer<Float>, geometry g: WindowGeometry,
                       batch: Int, rows: Int) {
        let fft = fftConvolutions.value(for: g.inputHeight) {
            FFTConvolution(weights: weights, taps: kernel.height, stride: stride.y, inputChannels: inputChannels,
                           outputChannels: outputChannels, outputs: g.outputHeight)
        }
        fft.run(input: source.base, output: out.base, frames: batch, height: g.inputHeight, padTop: g.padTop)
        finishInParallel(out, rows: rows)
    }
}
