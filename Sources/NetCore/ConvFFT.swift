extension Conv2D {
    /// A tall 1-D kernel on width-1 images (CREPE's 64 taps over 128…2048 channels) by FFT: the transforms cost less
    /// than the taps they save. The transformed weights are made once per input height.
    func convolveByFFT(source: SharedReadPointer<Float>, output out: SharedPointer<Float>, geometry g: WindowGeometry,
                       batch: Int, rows: Int) {
        let height = g.inputHeight
        let fft = fftConvolutions.convolution(height: height) {
            FFTConvolution(weights: weights, taps: kernel.height, inputChannels: inputChannels, outputChannels: outputChannels,
                           height: max(height + g.padTop, g.outputHeight))
        }
        fft.run(input: source.base, output: out.base, frames: batch, height: height, outputHeight: g.outputHeight, padTop: g.padTop)
        finishInParallel(out, rows: rows)
    }
}
