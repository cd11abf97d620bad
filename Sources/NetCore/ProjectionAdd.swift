import CKernels

/// A 1×1 convolution whose output is added to a second input, then clamped, as one layer: the projection and residual
/// connection that end an inverted residual block (MobileNetV2, EfficientNet) or a bottleneck (ResNet's last 1×1
/// convolution and its shortcut).
///
/// The sum is made in the product's store — the packed float product's (``an_packed_gemm``) or the int8 one's
/// (``an_int8_linear``) — so the projection's output is never written and read back by a separate addition. Each value
/// is the two layers' bit for bit: the same product, then the same one addition and clamp.
public struct ProjectionAdd: Layer {
    /// How the projection multiplies.
    public enum Projection: Sendable {
        /// An ungrouped, stride-1, unpadded 1×1 convolution without activation, on its weights packed as panels of 16
        /// channels (``an_pack_panels``).
        case float32(Conv2D, packed: [Float])
        /// The int8 form of such a convolution (``Int8Linear``, `--precision int8`).
        case int8(Int8Linear)
    }

    /// The projection.
    public internal(set) var projection: Projection
    /// The activation after the sum: a clamp (identity, ReLU, ReLU6, clip), fused into the store.
    public let activation: Activation
    /// The range of the residual over calibration examples (the ``Add``'s), which the layer writing it writes its codes in.
    public internal(set) var residualRange: ClosedRange<Float>?

    /// The pair as one layer, or nil unless `projection` is a 1×1 convolution without activation and `add`'s
    /// activation is a clamp or none.
    public init?(_ projection: Conv2D, then add: Add) {
        guard projection.isPerPixelLinear, projection.activation == .identity, add.activation.clampBounds != nil else { return nil }
        self.projection = .float32(projection, packed: projection.packedPanels ?? projection.packPanels())
        self.activation = add.activation
    }

    /// The int8 pair as one layer, or nil unless `projection` (a 1×1 convolution's int8 form) has no activation and
    /// `add`'s activation is a clamp or none.
    public init?(_ projection: Int8Linear, then add: Add) {
        guard projection.sourceTypeName == "Conv2D", projection.activation == .identity, add.activation.clampBounds != nil else { return nil }
        self.projection = .int8(projection)
        self.activation = add.activation
    }

    private var projectionLayer: any Layer {
        switch projection {
        case .float32(let conv, _): conv
        case .int8(let linear): linear
        }
    }

    public var typeName: String {
        if case .int8 = projection { return "ProjectionAdd (int8)" }
        return "ProjectionAdd"
    }
    public var parameterCount: Int { projectionLayer.parameterCount }
    public var parameterBytes: Int { projectionLayer.parameterBytes }

    /// Reads the projection's input, then the tensor added to its output (of the output's shape).
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 2)
        let projected = try projectionLayer.outputShape(for: [inputs[0]])
        guard inputs[1] == projected else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "a second input of the projection's shape \(projected)", got: inputs[1])
        }
        return projected
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { projectionLayer.multiplyAdds(for: [inputs[0]]) }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        switch projection {
        case .int8(let linear):
            linear.run(inputs[0], adding: inputs[1], activation: activation, into: &output)
        case .float32(let conv, let packed):
            let (k, n) = (conv.inputChannels, conv.outputChannels), rows = inputs[0].count / k
            guard rows > 0 else { return }
            inputs[0].scalars.withUnsafeBufferPointer { source in
                inputs[1].scalars.withUnsafeBufferPointer { residual in
                    output.scalars.withUnsafeMutableBufferPointer { target in
                        PackedProduct(k: k, n: n, packed: packed, bias: conv.bias, activation: activation)
                            .run(rows: rows, source: SharedReadPointer(source.baseAddress!), adding: SharedReadPointer(residual.baseAddress!),
                                 output: SharedPointer(target.baseAddress!), blockRows: max(64, (256 * 1024) / (4 * max(k, n))))
                    }
                }
            }
        }
    }
}

extension Network {
    /// The network with each two-input ``Add`` whose activation is a clamp (or none) merged with a 1×1 projection that
    /// feeds only it into a ``ProjectionAdd``: an int8 projection anywhere, a float32 one where the packed product has
    /// its body. The merged node has the Add's name and place, and reads the projection's input and the Add's other input.
    public func fusingResiduals() -> Network {
        let packedBody = an_packed_gemm_has_body() != 0
        var result = self
        let readers = Dictionary(grouping: nodes.flatMap { node in node.inputs.map { ($0, node.name) } }, by: \.0).mapValues(\.count)
        for node in nodes {
            guard let add = node.layer as? Add, node.inputs.count == 2, node.inputs[0] != node.inputs[1],
                  let index = result.nodes.firstIndex(where: { $0.name == node.name }) else { continue }
            for (side, name) in node.inputs.enumerated() where readers[name] == 1 && name != outputName {
                guard let producer = result.nodes.firstIndex(where: { $0.name == name }) else { continue }
                let layer = result.nodes[producer].layer
                var fused = (layer as? Int8Linear).flatMap { ProjectionAdd($0, then: add) }
                    ?? (packedBody ? (layer as? Conv2D).flatMap { ProjectionAdd($0, then: add) } : nil)
                fused?.residualRange = add.inputRanges?[1 - side]
                guard let fused else { continue }
                result.nodes[index] = Node(name: node.name, layer: fused, inputs: result.nodes[producer].inputs + [node.inputs[1 - side]])
                result.nodes.remove(at: producer)
                result.shapes[name] = nil
                break
            }
        }
        return result
    }
}
