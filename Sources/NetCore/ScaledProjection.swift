import CKernels

/// A squeeze-and-excitation block's channel scaling and the 1×1 projection that reads it, as one layer (EfficientNet's
/// MBConv blocks): `project(x ⊙ s)`, and the residual sum after it when the projection was a ``ProjectionAdd``.
///
/// Each example's scales go into its weights instead of its activation — `x · (diag(s) · W)`, k × n multiplies
/// instead of h × w × k — so the scaled activation is never written and read back (the separate ``Multiply`` was 4 %
/// of EfficientNet-B0 at batch 1 on one core and 10 % of a batch of 16 on two, bound by memory). The products round
/// `s · w` where the two layers round `x · s`: the output agrees with theirs to float rounding, not bit for bit.
public struct ScaledProjection: Layer {
    /// The 1×1 projection (ungrouped, stride 1, unpadded) and its weights packed as panels of 16 channels
    /// (``an_pack_panels``).
    public let projection: Conv2D
    let packed: [Float]
    /// The clamp after the residual sum when the layer reads a third input (the residual), else nil.
    public let residualActivation: Activation?

    /// The scaling and `projection` as one layer, or nil unless `projection` is per-pixel linear.
    public init?(_ projection: Conv2D) {
        guard projection.isPerPixelLinear else { return nil }
        self.projection = projection
        self.packed = projection.packedPanels ?? projection.packPanels()
        self.residualActivation = nil
    }

    /// The scaling and a float32 ``ProjectionAdd`` as one layer, or nil when the projection is int8.
    public init?(_ fused: ProjectionAdd) {
        guard case .float32(let conv, let packed) = fused.projection else { return nil }
        self.projection = conv
        self.packed = packed
        self.residualActivation = fused.activation
    }

    public var typeName: String { "ScaledProjection" }
    public var parameterCount: Int { projection.parameterCount }
    public var parameterBytes: Int { projection.parameterBytes }

    /// Reads the activation `[h, w, k]`, its channel scales `[1, 1, k]`, and, after a ``ProjectionAdd``, the residual.
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: residualActivation == nil ? 2 : 3)
        guard inputs[1] == [1, 1, projection.inputChannels] else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "channel scales [1, 1, \(projection.inputChannels)]", got: inputs[1])
        }
        let projected = try projection.outputShape(for: [inputs[0]])
        if residualActivation != nil, inputs[2] != projected {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "a residual of the projection's shape \(projected)", got: inputs[2])
        }
        return projected
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { projection.multiplyAdds(for: [inputs[0]]) }

    /// Whether scaling the weights costs no more than scaling the activation: at least as many pixels as padded
    /// output channels (EfficientNet-B0's 7×7 blocks, 192–320 channels from 49 pixels, keep their ``Multiply``).
    static func pays(pixels: Int, outputChannels: Int) -> Bool { pixels >= Int(an_packed_panels(Int32(outputChannels))) * 16 }

    /// A batch of at least as many examples as cores shares whole examples over the cores, each scaling its own copy
    /// of the weights; the rest (one image) run one after another, the cores sharing first the scaling (by panels), then
    /// the rows.
    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let k = projection.inputChannels, batch = inputs[0].shape[0], pixels = inputs[0].count / max(1, batch * k)
        guard batch > 0, pixels > 0 else { return }
        let residual = inputs.count > 2 ? inputs[2].scalars : []
        inputs[0].scalars.withUnsafeBufferPointer { source in
            inputs[1].scalars.withUnsafeBufferPointer { scales in
                residual.withUnsafeBufferPointer { residual in
                    output.scalars.withUnsafeMutableBufferPointer { target in
                        let examples = Examples(layer: self, pixels: pixels, source: SharedReadPointer(source.baseAddress!),
                                                scales: SharedReadPointer(scales.baseAddress!),
                                                residual: residual.isEmpty ? nil : SharedReadPointer(residual.baseAddress!),
                                                output: SharedPointer(target.baseAddress!))
                        let threads = Parallel.threadCount, shared = threads > 1 ? batch / threads * threads : 0
                        if shared > 0 { Parallel.forEachShare(of: shared) { examples.project($0) } }
                        examples.project(shared..<batch)
                    }
                }
            }
        }
    }

    /// Examples of one batch, projected with their scaled weights.
    private struct Examples: Sendable {
        let layer: ScaledProjection
        let pixels: Int
        let source, scales: SharedReadPointer<Float>
        let residual: SharedReadPointer<Float>?
        let output: SharedPointer<Float>

        /// Examples `range`, one after another.
        func project(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            let (k, n) = (layer.projection.inputChannels, layer.projection.outputChannels), panels = Int(an_packed_panels(Int32(n)))
            let activation = layer.residualActivation ?? layer.projection.activation, blockRows = max(64, (256 * 1024) / (4 * max(k, n)))
            var scaled = [Float](unsafeUninitializedCapacity: layer.packed.count) { _, initialized in initialized = layer.packed.count }
            for example in range {
                scaled.withUnsafeMutableBufferPointer { target in
                    layer.packed.withUnsafeBufferPointer { weights in
                        let from = SharedReadPointer(weights.baseAddress!), to = SharedPointer(target.baseAddress!)
                        let exampleScales = SharedReadPointer(scales.base + example * k)
                        Parallel.forEachShare(of: panels) { share in
                            for panel in share {
                                Self.scale(from.base + panel * k * 16, k: k, by: exampleScales.base, into: to.base + panel * k * 16)
                            }
                        }
                    }
                }
                PackedProduct(k: k, n: n, packed: scaled, bias: layer.projection.bias, activation: activation)
                    .run(rows: pixels, source: SharedReadPointer(source.base + example * pixels * k),
                         adding: residual.map { SharedReadPointer($0.base + example * pixels * n) },
                         output: SharedPointer(output.base + example * pixels * n), blockRows: blockRows)
            }
        }

        /// One packed panel (`k` rows of 16 weights), row r times `scales[r]`.
        static func scale(_ panel: UnsafePointer<Float>, k: Int, by scales: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
            let from = UnsafeRawPointer(panel), to = UnsafeMutableRawPointer(target), stride = MemoryLayout<SIMD16<Float>>.stride
            for row in 0..<k {
                let lanes = from.loadUnaligned(fromByteOffset: row * stride, as: SIMD16<Float>.self)
                to.storeBytes(of: lanes * scales[row], toByteOffset: row * stride, as: SIMD16<Float>.self)
            }
        }
    }
}

extension Network {
    /// The network with each ``Multiply`` of an activation `[h, w, k]` by channel scales `[1, 1, k]` (a
    /// squeeze-and-excitation block's) that feeds only a float32 1×1 projection — a ``ProjectionAdd`` or a pointwise
    /// convolution run by the packed product — merged with it into a ``ScaledProjection``, where the weights are
    /// cheaper to scale than the activation. The merged node has the projection's name and place. Run it after
    /// ``fusingResiduals()``.
    public func fusingChannelScales() -> Network {
        guard an_packed_gemm_has_body() != 0 else { return self }
        var result = self
        let readers = Dictionary(grouping: nodes.flatMap { node in node.inputs.map { ($0, node.name) } }, by: \.0).mapValues(\.count)
        for node in nodes {
            guard let scaling = node.inputs.first, readers[scaling] == 1, scaling != outputName,
                  let producer = result.nodes.firstIndex(where: { $0.name == scaling }), result.nodes[producer].layer is Multiply,
                  let index = result.nodes.firstIndex(where: { $0.name == node.name }) else { continue }
            let fused: ScaledProjection? = switch node.layer {
            case let add as ProjectionAdd: ScaledProjection(add)
            case let conv as Conv2D where conv.algorithm == .pointwise: ScaledProjection(conv)
            default: nil
            }
            let operands = result.nodes[producer].inputs
            guard let fused, operands.count == 2, let activation = operands.first(where: { shapes[$0]?.count == 3 && shapes[$0] != [1, 1, fused.projection.inputChannels] }),
                  let scales = operands.first(where: { shapes[$0] == [1, 1, fused.projection.inputChannels] }),
                  let shape = shapes[activation], shape.last == fused.projection.inputChannels,
                  ScaledProjection.pays(pixels: shape[0] * shape[1], outputChannels: fused.projection.outputChannels) else { continue }
            result.nodes[index] = Node(name: node.name, layer: fused, inputs: [activation, scales] + node.inputs.dropFirst())
            result.nodes.remove(at: producer)
            result.shapes[scaling] = nil
        }
        return result
    }
}
