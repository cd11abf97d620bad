import CKernels

/// A 1×1 convolution whose output is added to a second input, then clamped, as one layer: the projection and residual
/// connection that end an inverted residual block (MobileNetV2, EfficientNet) or a bottleneck (ResNet's last 1×1
/// convolution and its shortcut).
///
/// The sum is made in the packed product's store (``an_packed_gemm``), so the projection's output is never written
/// and read back by a separate addition. Each value is the two layers' bit for bit: the same product, then the same
/// one addition and clamp.
public struct ProjectionAdd: Layer {
    /// The projection: an ungrouped, stride-1, unpadded 1×1 convolution without activation.
    public let projection: Conv2D
    /// The activation after the sum: a clamp (identity, ReLU, ReLU6, clip), fused into the store.
    public let activation: Activation
    /// The projection's weights as panels of 16 channels (``an_pack_panels``).
    private let packed: [Float]

    /// The pair as one layer, or nil unless `projection` is a 1×1 convolution without activation and `add`'s
    /// activation is a clamp or none.
    public init?(_ projection: Conv2D, then add: Add) {
        guard projection.isPerPixelLinear, projection.activation == .identity, add.activation.clampBounds != nil else { return nil }
        self.projection = projection
        self.activation = add.activation
        packed = projection.packedPanels ?? projection.packPanels()
    }

    public var typeName: String { "ProjectionAdd" }
    public var parameterCount: Int { projection.parameterCount }

    /// Reads the projection's input, then the tensor added to its output (of the output's shape).
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        try requireInputs(inputs, count: 2)
        let projected = try projection.outputShape(for: [inputs[0]])
        guard inputs[1] == projected else {
            throw NetworkError.shapeMismatch(layer: typeName, expected: "a second input of the projection's shape \(projected)", got: inputs[1])
        }
        return projected
    }

    public func multiplyAdds(for inputs: [[Int]]) -> Int { projection.multiplyAdds(for: [inputs[0]]) }

    public func forward(_ inputs: [Tensor], into output: inout Tensor) {
        let (k, n) = (projection.inputChannels, projection.outputChannels), rows = inputs[0].count / k
        guard rows > 0 else { return }
        inputs[0].scalars.withUnsafeBufferPointer { source in
            inputs[1].scalars.withUnsafeBufferPointer { residual in
                output.scalars.withUnsafeMutableBufferPointer { target in
                    PackedProduct(k: k, n: n, packed: packed, bias: projection.bias, activation: activation)
                        .run(rows: rows, source: SharedReadPointer(source.baseAddress!), adding: SharedReadPointer(residual.baseAddress!),
                             output: SharedPointer(target.baseAddress!), blockRows: max(64, (256 * 1024) / (4 * max(k, n))))
                }
            }
        }
    }
}

extension Network {
    /// The network with each two-input ``Add`` whose activation is a clamp (or none) merged with a 1×1 projection that
    /// feeds only it into a ``ProjectionAdd``, where the packed product has its body. The merged node has the Add's name
    /// and place, and reads the projection's input and the Add's other input.
    public func fusingResiduals() -> Network {
        guard an_packed_gemm_has_body() != 0 else { return self }
        var result = self
        let readers = Dictionary(grouping: nodes.flatMap { node in node.inputs.map { ($0, node.name) } }, by: \.0).mapValues(\.count)
        for node in nodes {
            guard let add = node.layer as? Add, node.inputs.count == 2, node.inputs[0] != node.inputs[1],
                  let index = result.nodes.firstIndex(where: { $0.name == node.name }) else { continue }
            for (side, name) in node.inputs.enumerated() where readers[name] == 1 && name != outputName {
                guard let producer = result.nodes.firstIndex(where: { $0.name == name }),
                      let projection = result.nodes[producer].layer as? Conv2D,
                      let fused = ProjectionAdd(projection, then: add) else { continue }
                result.nodes[index] = Node(name: node.name, layer: fused, inputs: result.nodes[producer].inputs + [node.inputs[1 - side]])
                result.nodes.remove(at: producer)
                result.shapes[name] = nil
                break
            }
        }
        return result
    }
}
