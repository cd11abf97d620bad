/// A classifier trained on a frozen network's embeddings: softmax regression (no hidden layer) or one hidden ReLU
/// layer, then logits over the classes. The parameters are `W₁, b₁` (and `W₂, b₂`), weights `[in, out]`.
public struct ClassifierHead: Sendable {
    /// The dense layers, input first.
    public private(set) var layers: [Dense]

    /// A head over `inputs` features with `hidden` ReLU units (0: softmax regression), initialised as PyTorch's
    /// `nn.Linear` is: weights and biases uniform in ±1/√fan-in, drawn from `generator`.
    public init<G: RandomNumberGenerator>(inputs: Int, classes: Int, hidden: Int = 0, generator: inout G) {
        let widths = hidden > 0 ? [inputs, hidden, classes] : [inputs, classes]
        layers = zip(widths, widths.dropFirst()).map { fanIn, fanOut in
            let bound = 1 / Float(fanIn).squareRoot()
            return Dense(inputFeatures: fanIn, outputFeatures: fanOut,
                         weights: (0..<fanIn * fanOut).map { _ in Float.random(in: -bound...bound, using: &generator) },
                         bias: (0..<fanOut).map { _ in Float.random(in: -bound...bound, using: &generator) })
        }
    }

    /// A head with the given layers (a saved model's).
    public init(layers: [Dense]) {
        precondition(!layers.isEmpty && zip(layers, layers.dropFirst()).allSatisfy { $0.outputFeatures == $1.inputFeatures })
        self.layers = layers
    }

    public var inputs: Int { layers[0].inputFeatures }
    public var classes: Int { layers[layers.count - 1].outputFeatures }

    /// The parameters in optimizer order: each layer's weights, then its bias.
    public var parameters: [[Float]] {
        get { layers.flatMap { [$0.weights, $0.bias] } }
        set {
            for index in layers.indices {
                layers[index] = Dense(inputFeatures: layers[index].inputFeatures, outputFeatures: layers[index].outputFeatures,
                                      weights: newValue[2 * index], bias: newValue[2 * index + 1])
            }
        }
    }

    /// Logits `[N, classes]` of embeddings `[N, inputs]`.
    public func logits(_ embeddings: Tensor) -> Tensor {
        var x = embeddings
        for (index, layer) in layers.enumerated() {
            x = layer.forward([x])
            if index < layers.count - 1 { x = Tensor(shape: x.shape, scalars: x.scalars.map { max($0, 0) }) }
        }
        return x
    }

    /// The mean softmax cross-entropy of a batch, the gradient of every parameter (in ``parameters`` order) and the
    /// gradient with respect to the embeddings (what a fine-tuned network below the head learns from).
    public func lossAndGradients(_ embeddings: Tensor, labels: [Int], classWeights: [Float]? = nil)
        -> (loss: Float, gradients: [[Float]], inputGradient: Tensor) {
        var activations = [embeddings]  // each layer's input; hidden ones after their ReLU
        for (index, layer) in layers.enumerated().dropLast() {
            let y = layer.forward([activations[index]])
            activations.append(Tensor(shape: y.shape, scalars: y.scalars.map { max($0, 0) }))
        }
        let logits = layers[layers.count - 1].forward([activations[layers.count - 1]])
        let (loss, logitGradient) = SoftmaxCrossEntropy.loss(logits: logits, labels: labels, classWeights: classWeights)
        var gradients: [[Float]] = []
        var outputGradient = logitGradient
        for index in layers.indices.reversed() {
            let g = layers[index].gradients(input: activations[index], outputGradient: outputGradient)
            gradients = [g.weights, g.bias] + gradients
            outputGradient = index > 0 ? Activation.reluGradient(output: activations[index], outputGradient: g.input) : g.input
        }
        return (loss, gradients, outputGradient)
    }
}
