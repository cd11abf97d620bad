import CKernels

/// Fully connected layer on the last axis: `y = x · W + b`, with a fused activation.
public struct Dense: Layer, ShapePlanned {
    public let inputFeatures: Int
    public let outputFeatures: Int
    /// Weights `[inputFeatures, outputFeatures]` (Keras layout; PyTorch's `[out, in]` transposed).
    public internal(set) var weights: [Float]
    public internal(set) var bias: [Float]
    public var activation: Activation
    /// The weights as 16-column panels (``an_pack_panels``), packed when the layer is planned on a processor with the
    /// packed product's body: a classifier at batch 1 then streams its weights once, bias and clamp in the same pass.
    private(set) var packedPanels: [Float]?

    public init(inputFeatures: Int, outputFeatures: Int, weights: [Float]? = nil, bias: [Float]? = nil,
                activation: Activation = .identity) {
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.weights = weights ?? [Float](repeating: 0, count: inputFeatures * outputFeatures)
        self.bias = bias ?? [Float](repeating: 0, count: outputFeatures)
        self.activation = activation
        precondition(self.weights.count == inputFeatures * outputFeatures && self.bias.count == outputFeatures,
                     "weight or bias count mismatch")
    }

    public var typeName: String { "Dense" }
    public var parameterCount: Int { weights.count + bias.count }

    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try lastAxisOutputShape(inputs, inputFeatures: inputFeatures, outputFeatures: outputFeatures)
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { inputs[0].reduce(1, *) * outputFeatures }

    /// Folds a per-output affine map (an inference BatchNorm) into the weights.
    public mutating func fold(scale: [Float], shift: [Float]) {
        for index in weights.indices { weights[index] *= scale[index % outputFeatures] }
        for o in 0..<outputFeatures { bias[o] = bias[o] * scale[o] + shift[o] }
        if packedPanels != nil {  // in place: a fine-tuned layer's weights change at every step
            let (weights, inputs, outputs) = (weights, Int32(inputFeatures), Int32(outputFeatures))
            packedPanels!.withUnsafeMutableBufferPointer { an_pack_panels(weights, inputs, outputs, $0.baseAddress!) }
        }
    }

    /// Replaces the weights and bias (same counts).
    mutating func setWeights(_ newWeights: [Float], bias newBias: [Float]) {
        precondition(newWeights.count == weights.count && newBias.count == bias.count)
        weights = newWeights
        bias = newBias
        if packedPanels != nil {  // in place: a fine-tuned layer's weights change at every step
            let (weights, inputs, outputs) = (weights, Int32(inputFeatures), Int32(outputFeatures))
            packedPanels!.withUnsafeMutableBufferPointer { an_pack_panels(weights, inputs, outputs, $0.baseAddress!) }
        }
    }

    /// Packs the weights for the packed product where it has its body; `Network.add` calls it once, at load.
    public func planned(for inputs: [[Int]]) -> Dense {
        var planned = self
        if an_packed_gemm_has_body() != 0 { planned.packedPanels = packPanels() }
        return planned
    }

    private func packPanels() -> [Float] {
        [Float](unsafeUninitializedCapacity: an_packed_size(Int32(inputFeatures), Int32(outputFeatures))) { buffer, count in
            an_pack_panels(weights, Int32(inputFeatures), Int32(outputFeatures), buffer.baseAddress!)
            count = buffer.count
        }
    }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let input = inputs[0]
        let rows = input.count / inputFeatures
        guard rows > 0 else { return }
        if let packed = packedPanels, an_packed_gemm_has_body() != 0 {
            input.scalars.withUnsafeBufferPointer { a in
                output.scalars.withUnsafeMutableBufferPointer { c in
                    PackedProduct(k: inputFeatures, n: outputFeatures, packed: packed, bias: bias, activation: activation)
                        .run(rows: rows, source: SharedReadPointer(a.baseAddress!), output: SharedPointer(c.baseAddress!),
                             blockRows: max(64, (256 * 1024) / (4 * max(inputFeatures, outputFeatures))))
                }
            }
            return
        }
        input.scalars.withUnsafeBufferPointer { a in
            weights.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { c in
                    GEMM.parallel(m: rows, n: outputFeatures, k: inputFeatures, a: a.baseAddress!, lda: inputFeatures,
                                  b: w.baseAddress!, ldb: outputFeatures, c: c.baseAddress!, ldc: outputFeatures)
                    for row in 0..<rows {
                        for o in 0..<outputFeatures { c[row * outputFeatures + o] += bias[o] }
                    }
                    activation.apply(c.baseAddress!, count: rows * outputFeatures)
                }
            }
        }
    }
}
