/// A network split for fine-tuning: the layers below the first trainable one run for inference (BatchNorm and
/// activations folded, as `audionet` runs them), the layers from it on keep their activations and pass the loss's
/// gradient back to their learnables (BatchNorm unfolded, its statistics frozen).
///
/// When the frozen part's outputs do not change between epochs (no augmentation), compute them once with
/// ``frozenActivations(_:)`` and train from them with ``forward(from:)`` and ``backward(_:outputGradient:)``.
public struct FineTunableNetwork: Sendable {
    /// The frozen layers, optimized; its outputs are ``boundary``.
    public let frozen: Network
    /// The activations the trainable layers read from the frozen part (or the network's input), in first-read order.
    public let boundary: [String]
    /// The trainable layers in topological order.
    public private(set) var trainable: [Network.Node]
    /// The node whose output the loss reads.
    public let outputName: String
    /// How the trainable BatchNorm layers normalise in ``trainingForward(from:)`` and pass gradients back.
    public var batchNormStatistics = BatchNormStatistics.frozen

    /// The statistics a trainable BatchNorm layer normalises with while training.
    public enum BatchNormStatistics: String, Sendable, CaseIterable {
        /// Its running statistics, unchanged (PyTorch's `eval()` mode, the usual choice on a small dataset).
        case frozen
        /// Each batch's own, the running ones moving toward them by ``FineTunableNetwork/batchNormMomentum`` (PyTorch's
        /// `train()` mode).
        case batch
    }

    /// How far a step moves the running statistics toward the batch's (`torch.nn.BatchNorm2d`'s default).
    public static let batchNormMomentum: Float = 0.1
    /// Draws the trainable dropout layers' masks, step after step.
    var dropoutGenerator: SplitMix64

    /// Splits `network` (unoptimized: BatchNorm and activations as nodes of their own) so that `first` and every node
    /// after it learn; they must all be ``Backpropagating``. `seed` seeds the dropout masks of ``trainingForward(from:)``.
    /// - Throws: ``NetworkError/unknownLayer(_:valid:)`` for an unknown `first`, ``NetworkError/invalidGraph(_:)``
    ///   naming a trainable layer without a backward pass.
    public init(_ network: Network, trainableFrom first: String, seed: UInt64 = 0) throws {
        guard let start = network.nodes.firstIndex(where: { $0.name == first }) else {
            throw NetworkError.unknownLayer(first, valid: network.nodes.map(\.name))
        }
        let tail = Array(network.nodes[start...])
        if let node = tail.first(where: { !($0.layer is any Backpropagating) }) {
            throw NetworkError.invalidGraph("'\(node.name)' (\(node.layer.typeName)) cannot pass gradients back, so it cannot be fine-tuned")
        }
        let names = Set(tail.map(\.name))
        var boundary: [String] = []
        for node in tail { for input in node.inputs where !names.contains(input) && !boundary.contains(input) { boundary.append(input) } }
        let needed = network.neededNodes(for: Set(boundary))
        var frozen = Network(inputShape: network.inputShape, inputName: network.inputName)
        for node in network.nodes where needed.contains(node.name) { try frozen.add(node.name, node.layer, inputs: node.inputs) }
        self.frozen = frozen.optimized(keeping: Set(boundary))
        self.boundary = boundary
        trainable = tail
        outputName = network.outputName
        dropoutGenerator = SplitMix64(seed: seed)
    }

    /// The running mean and variance of each trainable BatchNorm layer, in network order: the state that training with
    /// ``BatchNormStatistics/batch`` changes.
    public var statistics: [[Float]] {
        trainable.flatMap { node in (node.layer as? BatchNorm).map { [$0.mean, $0.variance] } ?? [] }
    }

    /// Replaces the running statistics (as ``statistics`` lists them).
    public mutating func setStatistics(_ values: [[Float]]) {
        var next = 0
        for index in trainable.indices {
            guard var norm = trainable[index].layer as? BatchNorm else { continue }
            norm.setStatistics(mean: values[next], variance: values[next + 1])
            trainable[index].layer = norm
            next += 2
        }
        precondition(next == values.count, "\(values.count) statistics arrays for \(next)")
    }

    /// The learnable arrays of the trainable layers, layer by layer in network order (each layer's in its order).
    public var learnables: [[Float]] {
        trainable.flatMap { ($0.layer as! any Backpropagating).learnables }
    }

    /// Replaces the learnables (as ``learnables`` lists them); each layer remakes what it derives from them in place.
    public mutating func setLearnables(_ values: [[Float]]) {
        var next = 0
        for index in trainable.indices {
            var layer = trainable[index].layer as! any Backpropagating
            let count = layer.learnables.count
            guard count > 0 else { continue }
            trainable[index].layer = Flatten()  // `layer` then holds the only reference to its buffers
            layer.setLearnables(Array(values[next..<next + count]))
            trainable[index].layer = layer
            next += count
        }
        precondition(next == values.count, "\(values.count) learnable arrays for \(next)")
    }

    /// The frozen part's outputs the trainable layers read, for a batch of the network's input.
    public func frozenActivations(_ input: Tensor) throws -> [String: Tensor] {
        let computed = boundary.filter { $0 != frozen.inputName }
        var values = computed.isEmpty ? [:] : try frozen.run(input, outputs: computed)
        if boundary.contains(frozen.inputName) { values[frozen.inputName] = input }
        return values
    }

    /// Every trainable layer's output from the ``boundary`` activations (which the result includes): what
    /// ``backward(_:outputGradient:)`` reads; the network's output is at ``outputName``.
    public func forward(from boundaryValues: [String: Tensor]) -> [String: Tensor] {
        var values = boundaryValues
        for node in trainable { values[node.name] = node.layer.forward(node.inputs.map { values[$0]! }) }
        return values
    }

    /// ``forward(from:)`` for a training step, as PyTorch's `train()` runs it: each dropout layer zeroes values at
    /// random (its factors kept in the result for ``backward(_:outputGradient:)``, at ``dropoutFactorsKey(_:)``); with
    /// ``BatchNormStatistics/batch``, each BatchNorm layer normalises with the batch's statistics and moves its running
    /// ones toward them.
    public mutating func trainingForward(from boundaryValues: [String: Tensor]) -> [String: Tensor] {
        var values = boundaryValues
        for index in trainable.indices {
            let node = trainable[index], inputs = node.inputs.map { values[$0]! }
            if let dropout = node.layer as? Dropout, dropout.rate > 0 {
                let (output, factors) = dropout.trainingForward(inputs[0], using: &dropoutGenerator)
                values[node.name] = output
                values[Self.dropoutFactorsKey(node.name)] = factors
            } else if batchNormStatistics == .batch, var norm = node.layer as? BatchNorm {
                values[node.name] = norm.trainingForward(inputs[0], momentum: Self.batchNormMomentum)
                trainable[index].layer = norm
            } else {
                values[node.name] = node.layer.forward(inputs)
            }
        }
        return values
    }

    /// Where ``trainingForward(from:)`` keeps a dropout node's factors among the activations.
    public static func dropoutFactorsKey(_ node: String) -> String { node + "\u{0}dropout factors" }

    /// The gradient of every learnable (as ``learnables`` lists them) from a ``trainingForward(from:)``'s (or, with
    /// BatchNorm frozen and no dropout, a ``forward(from:)``'s) activations and the loss's gradient with respect to the
    /// output.
    public func backward(_ values: [String: Tensor], outputGradient: Tensor) -> [[Float]] {
        var gradients: [String: Tensor] = [outputName: outputGradient]
        var learnableGradients: [[[Float]]] = []
        for node in trainable.reversed() {
            let layer = node.layer as! any Backpropagating
            guard let gradient = gradients.removeValue(forKey: node.name) else {
                // Not on the way to the output: its learnables do not move the loss.
                learnableGradients.append(layer.learnables.map { [Float](repeating: 0, count: $0.count) })
                continue
            }
            let inputs = node.inputs.map { values[$0]! }
            let result: LayerGradients
            if let dropout = layer as? Dropout, let factors = values[Self.dropoutFactorsKey(node.name)] {
                result = dropout.backward(outputGradient: gradient, factors: factors)
            } else if batchNormStatistics == .batch, let norm = layer as? BatchNorm {
                result = norm.trainingBackward(input: inputs[0], outputGradient: gradient)
            } else {
                result = layer.backward(inputs: inputs, output: values[node.name]!, outputGradient: gradient)
            }
            learnableGradients.append(result.learnables)
            for (input, inputGradient) in zip(node.inputs, result.inputs) where !boundary.contains(input) {
                gradients[input] = gradients[input].map { $0.adding(inputGradient) } ?? inputGradient
            }
        }
        return learnableGradients.reversed().flatMap { $0 }
    }

    /// The whole network for inference with the current learnables: the frozen part and the trainable layers, optimized.
    public func inferenceNetwork() throws -> Network {
        var network = Network(inputShape: frozen.inputShape, inputName: frozen.inputName)
        for node in frozen.nodes { try network.add(node.name, node.layer, inputs: node.inputs) }
        for node in trainable { try network.add(node.name, node.layer, inputs: node.inputs) }
        network.outputName = outputName
        return network.optimized()
    }
}

extension Tensor {
    /// The element-wise sum with a tensor of the same shape (gradients meeting where an activation fans out).
    func adding(_ other: Tensor) -> Tensor {
        precondition(other.shape == shape, "cannot add \(other.shape) to \(shape)")
        var sum = self
        sum.scalars.withUnsafeMutableBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in for i in a.indices { a[i] += b[i] } }
        }
        return sum
    }
}

extension Network {
    /// The learnables of the named nodes (each a ``Backpropagating`` layer's ``Backpropagating/learnables``).
    public func learnables(of names: [String]) throws -> [String: [[Float]]] {
        try Dictionary(uniqueKeysWithValues: names.map { name in
            guard let layer = nodes.first(where: { $0.name == name })?.layer as? any Backpropagating else {
                throw NetworkError.invalidWeights("no trainable layer named '\(name)'")
            }
            return (name, layer.learnables)
        })
    }

    /// The network with the named nodes' learnables replaced (a fine-tuned model's layers on its backbone); a BatchNorm's
    /// arrays may end with its running mean and variance (fine-tuned with batch statistics).
    /// - Throws: ``NetworkError/invalidWeights(_:)`` naming a node that is missing, has no learnables, or whose arrays
    ///   differ in number or size from the values given.
    public func replacingLearnables(_ values: [String: [[Float]]]) throws -> Network {
        var result = self
        for (name, arrays) in values {
            guard let index = result.nodes.firstIndex(where: { $0.name == name }),
                  let layer = result.nodes[index].layer as? any Backpropagating else {
                throw NetworkError.invalidWeights("no trainable layer named '\(name)'")
            }
            let current = layer.learnables, norm = layer as? BatchNorm
            let withStatistics = norm.map { current + [$0.mean, $0.variance] }
            if var norm, let withStatistics, withStatistics.map(\.count) == arrays.map(\.count) {
                norm.setLearnables(Array(arrays.prefix(current.count)))
                norm.setStatistics(mean: arrays[current.count], variance: arrays[current.count + 1])
                result.nodes[index].layer = norm
                continue
            }
            guard current.map(\.count) == arrays.map(\.count) else {
                throw NetworkError.invalidWeights("'\(name)' holds arrays of \(current.map(\.count)) values, not \(arrays.map(\.count))")
            }
            result.nodes[index].layer = layer.replacingLearnables(arrays)
        }
        return result
    }
}
