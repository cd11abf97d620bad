import CKernels

/// 2-D convolution on NHWC tensors, with groups, stride, dilation, TensorFlow or explicit padding,
/// bias and a fused activation. Each of its algorithms (``ConvolutionAlgorithm``) has its own file; which one
/// runs is chosen once for the input shape.
public struct Conv2D: SlidingWindow, ShapePlanned {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: (height: Int, width: Int)
    public let stride: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let groups: Int
    public let padding: Padding
    /// Weights `[kh, kw, inputChannels / groups, outputChannels]` (TensorFlow's HWIO). A convolution that keeps only
    /// its kernel spectra (``keepingOnlySpectra(for:)``, a prepared network's FFT layers) makes them again from the
    /// spectra when they are read, to float rounding.
    public internal(set) var weights: [Float] {
        get { spectraOnly?.kernel(count: weightCount) ?? storedWeights }
        set { storedWeights = newValue; spectraOnly = nil }
    }
    /// The HWIO weights, empty while ``spectraOnly`` holds the kernel.
    var storedWeights: [Float]
    /// The FFT form that holds the kernel instead of ``storedWeights``.
    var spectraOnly: FFTConvolution?
    /// Bias per output channel.
    public internal(set) var bias: [Float]
    public var activation: Activation
    /// Whether the layer has a learnable bias (a bias-free convolution gains one when a BatchNorm is folded in).
    public private(set) var hasBias: Bool
    /// Winograd-transformed weights, for 3×3 stride-1 convolutions wide enough to gain from them.
    private(set) var winograd: WinogradKernel?
    /// The weights as 16-column panels (``an_pack_panels``) for an ungrouped convolution computed by one product (1×1
    /// or im2col), packed when it is planned on a processor with the packed product's body.
    private(set) var packedPanels: [Float]?
    /// FFT convolutions for tall 1-D kernels (CREPE's 64 taps), made per input height on first use.
    private(set) var fftConvolutions = Memo<Int, FFTConvolution>()
    /// How the output is computed, fixed by ``planned(for:)`` for the input shape the network gives; nil (a
    /// convolution used on its own) chooses at each call.
    public private(set) var algorithm: ConvolutionAlgorithm?

    /// Creates a convolution; `weights` are HWIO `[kh, kw, inputChannels / groups, outputChannels]`.
    public init(inputChannels: Int, outputChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                dilation: (Int, Int) = (1, 1), groups: Int = 1, padding: Padding = .valid,
                weights: [Float]? = nil, bias: [Float]? = nil, activation: Activation = .identity) {
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "channels must divide into groups")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.groups = groups
        self.padding = padding
        let count = kernel.0 * kernel.1 * (inputChannels / groups) * outputChannels
        storedWeights = weights ?? [Float](repeating: 0, count: count)
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        self.activation = activation
        hasBias = bias != nil
        precondition(storedWeights.count == count && self.bias.count == outputChannels, "weight or bias count mismatch")
        winograd = makeWinograd()
    }

    public var typeName: String { groups == 1 ? "Conv2D" : "GroupedConv2D" }
    public var parameterCount: Int { weightCount + (hasBias ? bias.count : 0) }

    /// Whether the layer holds its kernel only as FFT spectra (``keepingOnlySpectra(for:)``).
    public var keepsOnlySpectra: Bool { spectraOnly != nil }

    /// Whether the convolution is a plain per-pixel linear map: 1×1, stride 1, ungrouped, unpadded.
    public var isPerPixelLinear: Bool {
        let unpadded: Bool
        switch padding {
        case .valid, .same: unpadded = true
        case .explicit(let top, let bottom, let left, let right): unpadded = top == 0 && bottom == 0 && left == 0 && right == 0
        }
        return kernel == (1, 1) && stride == (1, 1) && groups == 1 && unpadded
    }

    /// Rows of the im2col matrix: taps × input channels per group.
    var depth: Int { kernel.height * kernel.width * (inputChannels / groups) }
    /// Weights in all: `depth × outputChannels`.
    var weightCount: Int { depth * outputChannels }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try windowOutputShape(inputs, channels: inputChannels, outputChannels: outputChannels)
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int {
        let g = geometry(inputs[0])
        return g.outputHeight * g.outputWidth * outputChannels * depth
    }

    /// Folds a per-output-channel affine map `y·scale + shift` (an inference BatchNorm) into the weights.
    public mutating func fold(scale: [Float], shift: [Float]) {
        hasBias = true
        var folded = weights
        storedWeights = []  // the only reference left is `folded`'s: scaled in place, not copied
        for index in folded.indices { folded[index] *= scale[index % outputChannels] }
        weights = folded
        for channel in 0..<outputChannels { bias[channel] = bias[channel] * scale[channel] + shift[channel] }
        deriveFromWeights()
    }

    /// Replaces the weights (same layout and count) and, when given, the bias.
    mutating func setWeights(_ newWeights: [Float], bias newBias: [Float]?) {
        precondition(newWeights.count == weightCount && (newBias?.count ?? outputChannels) == outputChannels)
        weights = newWeights
        if let newBias { bias = newBias }
        deriveFromWeights()
    }

    /// Makes again what the algorithms derive from the weights (Winograd kernels, packed panels, FFT plans), in the
    /// buffers they have (a fine-tuned layer's weights change at every step).
    private mutating func deriveFromWeights() {
        if winograd != nil { winograd!.transform(weights) } else { winograd = makeWinograd() }
        if packedPanels != nil {
            let (weights, depth, outputs) = (weights, Int32(depth), Int32(outputChannels))
            packedPanels!.withUnsafeMutableBufferPointer { an_pack_panels(weights, depth, outputs, $0.baseAddress!) }
        }
        fftConvolutions = Memo()
    }

    /// The weights packed for ``an_packed_gemm`` (ungrouped HWIO weights are the `depth × outputChannels` matrix).
    func packPanels() -> [Float] {
        [Float](unsafeUninitializedCapacity: an_packed_size(Int32(depth), Int32(outputChannels))) { buffer, count in
            an_pack_panels(weights, Int32(depth), Int32(outputChannels), buffer.baseAddress!)
            count = buffer.count
        }
    }

    /// Winograd pays off from about 16 channels in and out (below, the transforms cost more than they save).
    func makeWinograd() -> WinogradKernel? {
        guard kernel == (3, 3), stride == (1, 1), dilation == (1, 1), groups == 1, inputChannels >= 16, outputChannels >= 16 else {
            return nil
        }
        return WinogradKernel(weights: weights, inputChannels: inputChannels, outputChannels: outputChannels)
    }

    /// Fixes the algorithm for this input shape; `Network.add` calls it, so each convolution chooses once, at load. A
    /// Winograd convolution on maps of fewer than ``fewWinogradTiles`` tiles also packs its weights for im2col, which
    /// runs instead when a batch has that few.
    public func planned(for inputs: [[Int]]) -> Conv2D {
        var planned = self
        planned.algorithm = ConvolutionAlgorithm.choose(for: self, input: inputs[0])
        let im2colAtBatch1 = planned.algorithm == .winograd && winogradTiles(geometry(inputs[0])) < Self.fewWinogradTiles
        if planned.algorithm == .pointwise || planned.algorithm == .im2col || im2colAtBatch1, groups == 1, an_packed_gemm_has_body() != 0 {
            planned.packedPanels = packPanels()
        }
        return planned
    }

    /// Winograd's 36 products each read a transformed kernel as large as the whole kernel: for fewer tiles than this in
    /// a batch they stream 4× im2col's weights for a few rows. ResNet-50's last 3×3 convolutions (7×7 maps, 4 tiles an
    /// image) took 2.9 ms by Winograd and 2.0 by im2col for one image; for two, 3.4 against 3.7–4.1 ms.
    static let fewWinogradTiles = 8

    /// Winograd's 4×4 output tiles in one example.
    func winogradTiles(_ g: WindowGeometry) -> Int {
        let tile = WinogradKernel.tile
        return ((g.outputHeight + tile - 1) / tile) * ((g.outputWidth + tile - 1) / tile)
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let batch = input.shape[0]
        let g = geometry(Array(input.shape.dropFirst()))
        let rows = batch * g.outputHeight * g.outputWidth
        guard rows > 0 else { return }
        let algorithm = self.algorithm ?? ConvolutionAlgorithm.choose(for: self, input: Array(input.shape.dropFirst()))
        input.scalars.withUnsafeBufferPointer { inBuffer in
            output.scalars.withUnsafeMutableBufferPointer { outBuffer in
                let source = SharedReadPointer(inBuffer.baseAddress!), out = SharedPointer(outBuffer.baseAddress!)
                switch algorithm {
                case .pointwise: withWeights { pointwiseByBlocks(source: source, weights: $0, output: out, rows: rows) }
                case .fewInputs: withWeights { convolveFewInputs(source: source, weights: $0, output: out, geometry: g, batch: batch) }
                case .winograd where packedPanels != nil && batch * winogradTiles(g) < Self.fewWinogradTiles:
                    withWeights { convolveByChunks(source: source, weights: $0, output: out, geometry: g, rows: rows) }
                case .winograd: convolveByWinograd(source: source, output: out, geometry: g, batch: batch, rows: rows)
                case .fft: convolveByFFT(source: source, output: out, geometry: g, batch: batch, rows: rows)
                case .rows: withWeights { convolveByRows(source: source, weights: $0, output: out, geometry: g, batch: batch) }
                case .taps: withWeights { convolveByTaps(source: source, weights: $0, output: out, geometry: g, batch: batch) }
                case .im2col: withWeights { convolveByChunks(source: source, weights: $0, output: out, geometry: g, rows: rows) }
                }
            }
        }
    }

    /// Calls `body` with the HWIO weights (the Winograd and FFT bodies read their own forms of them instead).
    private func withWeights(_ body: (SharedReadPointer<Float>) -> Void) {
        weights.withUnsafeBufferPointer { body(SharedReadPointer($0.baseAddress!)) }
    }

    /// ``finish(_:rows:addingBias:)`` over all output rows, split across the cores.
    func finishInParallel(_ output: SharedPointer<Float>, rows: Int, addingBias: Bool = true) {
        Parallel.forEachShare(of: rows) { share in
            finish(output.base + share.lowerBound * outputChannels, rows: share.count, addingBias: addingBias)
        }
    }

    /// Adds the bias (unless a kernel already did) and applies the activation to `rows` output pixels.
    func finish(_ output: UnsafeMutablePointer<Float>, rows: Int, addingBias: Bool = true) {
        if addingBias {
            bias.withUnsafeBufferPointer { b in
                for row in 0..<rows {
                    let values = output + row * outputChannels
                    for channel in 0..<outputChannels { values[channel] += b[channel] }
                }
            }
        }
        activation.apply(output, count: rows * outputChannels)
    }
}
