extension Conv2D {
    /// A tall 1-D kernel on width-1 images (CREPE's 64 taps over 128…2048 channels, its first layer's 512 taps at
    /// stride 4) by FFT: the transforms cost less than the taps they save. The transformed weights are made once per
    /// input height.
    func convolveByFFT(source: SharedReadPointer<Float>, output out: SharedPointer<Float>, geometry g: WindowGeometry,
                       batch: Int, rows: Int) {
        fftConvolution(g).run(input: source.base, output: out.base, frames: batch, height: g.inputHeight, padTop: g.padTop)
        finishInParallel(out, rows: rows)
    }

    /// The FFT form of the kernel for inputs of the geometry's height, made on first use.
    func fftConvolution(_ g: WindowGeometry) -> FFTConvolution {
        fftConvolutions.value(for: g.inputHeight) {
            FFTConvolution(weights: weights, taps: kernel.height, stride: stride.y, inputChannels: inputChannels,
                           outputChannels: outputChannels, outputs: g.outputHeight)
        }
    }

    /// This convolution, planned for FFT on examples of shape `input`, with its kernel held only as the spectra it runs
    /// on: the HWIO weights are released (the spectra hold them: CREPE full's FFT layers keep 85 MB of spectra beside
    /// 42 MB of weights) and ``weights`` makes them again from the spectra when read. Other convolutions are returned
    /// as they are.
    public func keepingOnlySpectra(for input: [Int]) -> Conv2D {
        guard algorithm == .fft, spectraOnly == nil else { return self }
        var result = self
        result.spectraOnly = fftConvolution(geometry(input))
        result.storedWeights = []
        return result
    }
}

extension Network {
    /// This network with each convolution it runs by FFT holding its kernel only as spectra
    /// (``Conv2D/keepingOnlySpectra(for:)``).
    public func keepingOnlySpectra() -> Network {
        var result = self
        for (index, node) in nodes.enumerated() {
            guard let conv = node.layer as? Conv2D, let input = shapes[node.inputs[0]] else { continue }
            result.nodes[index].layer = conv.keepingOnlySpectra(for: input)
        }
        return result
    }
}
