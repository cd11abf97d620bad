/// The ways ``Conv2D`` computes its output, each in its own file; ``choose(for:input:)`` picks one for an input
/// shape, once, when the convolution joins a network.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    /// 1×1, stride 1, unpadded: one GEMM per group over blocks of output pixels (ConvPointwise.swift).
    case pointwise
    /// A stem: at most 4 input channels, on images (two-dimensional kernels) or with a receptive field of at most 64
    /// values: a direct kernel (ConvFewInputs.swift), where an im2col GEMM would be shallow or spend its time on the
    /// columns (ResNet-50's 7×7 stem, a pass of two images: 4.0 ms against im2col's 4.6–5.0 in the same minutes).
    case fewInputs
    /// 3×3, stride 1, 16 channels or more in and out, images wider than one pixel: Winograd (ConvWinograd.swift).
    case winograd
    /// Width-1 images, a kernel of 16 taps or more, where the transforms save multiplies: FFT (ConvFFT.swift).
    case fft
    /// The same convolutions where FFT would not save multiplies, on outputs under 32 rows: one GEMM per output row
    /// and tap over the batch, taps in the padding skipped (ConvRows.swift).
    case rows
    /// Width-1 images, stride 1 in height, outputs at least 32 tall: one GEMM per tap (ConvTaps.swift).
    case taps
    /// Everything else: im2col over chunks of output pixels and a GEMM per group (ConvIm2col.swift).
    case im2col

    /// The algorithm for `conv` on examples of shape `input` (`[height, width, channels]`), the first rule that applies.
    public static func choose(for conv: Conv2D, input: [Int]) -> ConvolutionAlgorithm {
        let (height, width) = (input[0], input[1])
        let g = conv.geometry(input)
        let ungrouped = conv.groups == 1, undilated = conv.dilation == (1, 1)
        if conv.kernel == (1, 1) && conv.stride == (1, 1) && g.padTop == 0 && g.padLeft == 0
            && g.outputHeight == height && g.outputWidth == width {
            return .pointwise
        }
        let image = conv.kernel.height > 1 && conv.kernel.width > 1
        if ungrouped && conv.inputChannels <= 4 && (conv.depth <= 64 || image) { return .fewInputs }
        if conv.winograd != nil && width > 1 { return .winograd }
        let column = width == 1 && conv.kernel.width == 1 && undilated && ungrouped
        if column && conv.kernel.height >= 16 {
            // Multiplies per example: by FFT a complex product (4 real) per bin, segment and channel pair of the phase
            // kernel, plus the transforms (about N·log2 N each); directly one per (output row, tap) pair that reads the
            // image.
            let s = conv.stride.y
            let fft = FFTConvolution.Shape.phases(taps: conv.kernel.height, stride: s, outputs: g.outputHeight)
            let channels = s * conv.inputChannels, pairs = conv.inputChannels * conv.outputChannels
            let transforms = fft.segments * (channels + conv.outputChannels) * fft.length * fft.length.trailingZeroBitCount
            let byFFT = 4 * fft.bins * fft.segments * channels * conv.outputChannels + transforms
            let direct = (0..<g.outputHeight).reduce(0) { $0 + conv.readingTaps(row: $1, geometry: g).count } * pairs
            // Small complex GEMMs run at about half the rate of real ones; and an example's output spectra must stay
            // in cache (CREPE full's first layer, 1024 channels out, would write 2 MB of them: measured 24 % slower).
            let outputSpectraBytes = 8 * fft.bins * fft.segments * conv.outputChannels
            if 2 * byFFT < direct && outputSpectraBytes <= 512 << 10 { return .fft }
            if s == 1 && g.outputHeight < 32 { return .rows }
        }
        if column && conv.stride.y == 1 && g.outputHeight >= 32 { return .taps }
        return .im2col
    }
}

/// A layer that fixes how it computes once its input shapes are known (a convolution's algorithm); ``Network``
/// plans each such layer as it is added.
public protocol ShapePlanned: Layer {
    /// The layer, planned for `inputs` (shapes without the batch).
    func planned(for inputs: [[Int]]) -> Self
}
