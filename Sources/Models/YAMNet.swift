import Formats
import NetCore

/// YAMNet (research/audioset/yamnet/yamnet.py): a MobileNet-v1 body on 96×64 log-mel patches,
/// global average pooling to a 1024-d embedding, and 521 sigmoid AudioSet scores.
public enum YAMNet {
    enum Block { case conv, separable }

    /// `_YAMNET_LAYER_DEFS`: (block, stride, filters); every kernel is 3×3 with SAME padding.
    static let layers: [(block: Block, stride: Int, filters: Int)] = [
        (.conv, 2, 32),
        (.separable, 1, 64),
        (.separable, 2, 128),
        (.separable, 1, 128),
        (.separable, 2, 256),
        (.separable, 1, 256),
        (.separable, 2, 512),
        (.separable, 1, 512),
        (.separable, 1, 512),
        (.separable, 1, 512),
        (.separable, 1, 512),
        (.separable, 1, 512),
        (.separable, 2, 1024),
        (.separable, 1, 1024),
    ]

    /// Number of AudioSet classes.
    public static let classCount = 521
    /// Embedding width (channels of the last block).
    public static let embeddingSize = 1024
    /// params.py: BatchNorm with center, without scale, ε = 1e-4.
    static let batchNormEpsilon: Float = 1e-4
    /// Input patch: 96 frames × 64 mel bands.
    public static let patchShape = [96, 64]

    /// Weights of one convolution: the kernel in the engine's layout and either a folded bias (TFLite)
    /// or the BatchNorm that follows it (Keras).
    public struct ConvolutionWeights: Sendable {
        public var kernel: [Float]
        public var foldedBias: [Float]?
        public var batchNorm: BatchNorm?
    }

    /// All weights, by yamnet.py layer name (`layer1/conv`, `layer2/depthwise_conv`, `layer2/pointwise_conv`…).
    public struct Weights: Sendable {
        public var convolutions: [String: ConvolutionWeights]
        /// Dense kernel `[1024, 521]` and bias.
        public var logits: (kernel: [Float], bias: [Float])
    }

    /// Convolution names in network order with their input channels, output channels, stride and kind.
    static var convolutionPlan: [(name: String, inputs: Int, outputs: Int, stride: Int, depthwise: Bool, side: Int)] {
        var plan: [(String, Int, Int, Int, Bool, Int)] = []
        var channels = 1
        for (index, layer) in layers.enumerated() {
            let prefix = "layer\(index + 1)"
            switch layer.block {
            case .conv:
                plan.append(("\(prefix)/conv", channels, layer.filters, layer.stride, false, 3))
            case .separable:
                plan.append(("\(prefix)/depthwise_conv", channels, channels, layer.stride, true, 3))
                plan.append(("\(prefix)/pointwise_conv", channels, layer.filters, 1, false, 1))
            }
            channels = layer.filters
        }
        return plan
    }

    /// Builds the network from `weights`, or with zero weights and the BatchNorm layers in place when nil
    /// (enough for `audionet info`). Node names follow yamnet.py; the outputs are `embeddings`, `logits`
    /// and `predictions`.
    public static func network(weights: Weights?) throws -> Network {
        var net = Network(inputShape: patchShape)
        try net.add("reshape", Reshape(patchShape + [1]))
        for step in convolutionPlan {
            let given = weights?.convolutions[step.name]
            let kernelCount = step.depthwise ? 9 * step.inputs : step.side * step.side * step.inputs * step.outputs
            guard given == nil || given!.kernel.count == kernelCount else {
                throw NetworkError.invalidWeights("\(step.name) has \(given!.kernel.count) kernel values, expected \(kernelCount)")
            }
            let layer: any Layer = step.depthwise
                ? DepthwiseConv2D(channels: step.inputs, kernel: (3, 3), stride: (step.stride, step.stride), padding: .same,
                                  weights: given?.kernel, bias: given?.foldedBias)
                : Conv2D(inputChannels: step.inputs, outputChannels: step.outputs,
                         kernel: (step.side, step.side), stride: (step.stride, step.stride),
                         padding: .same, weights: given?.kernel, bias: given?.foldedBias)
            try net.add(step.name, layer)
            if weights == nil || given?.batchNorm != nil {
                let zeros = [Float](repeating: 0, count: step.outputs)
                try net.add("\(step.name)/bn", given?.batchNorm ?? BatchNorm(gamma: nil, beta: zeros, mean: zeros,
                                                                             variance: zeros.map { _ in 1 }, epsilon: batchNormEpsilon))
            }
            try net.add(step.name == "layer1/conv" ? "layer1/relu" : "\(step.name)/relu", ActivationLayer(.relu))
        }
        try net.add("embeddings", GlobalAveragePool())
        try net.add("logits", Dense(inputFeatures: embeddingSize, outputFeatures: classCount,
                                    weights: weights?.logits.kernel, bias: weights?.logits.bias))
        try net.add("predictions", ActivationLayer(.sigmoid))
        return net
    }

    /// Reads the weights of the official TF-Hub YAMNet lite model: its convolutions (BatchNorm folded into
    /// biases, ReLU fused, int8 kernels dequantized per channel) taken in graph order and checked against
    /// the layer table, and its last FULLY_CONNECTED as the classifier. The model's own int8 DFT front end
    /// is not used.
    public static func weights(tflite model: TFLiteModel) throws -> Weights {
        let convolutions = model.operators.filter { $0.code == .conv2D || $0.code == .depthwiseConv2D }
        let plan = convolutionPlan
        guard convolutions.count == plan.count else {
            throw NetworkError.invalidWeights("YAMNet has \(plan.count) convolutions, the TFLite model \(convolutions.count)")
        }
        var result: [String: ConvolutionWeights] = [:]
        for (op, step) in zip(convolutions, plan) {
            guard (op.code == .depthwiseConv2D) == step.depthwise, op.options.samePadding,
                  op.options.stride == (step.stride, step.stride), op.options.activation == .relu, op.inputs.count >= 3 else {
                throw NetworkError.invalidWeights("TFLite operator for \(step.name) does not match YAMNet's layer table")
            }
            let kernel = try model.floats(op.inputs[1]), bias = try model.floats(op.inputs[2])
            let engineKernel: Tensor
            if step.depthwise {
                guard kernel.shape == [1, 3, 3, step.inputs] else {
                    throw NetworkError.invalidWeights("\(step.name): kernel shape \(kernel.shape), expected [1, 3, 3, \(step.inputs)]")
                }
                engineKernel = kernel  // [1, kh, kw, C] is already [kh, kw, C]
            } else {
                guard kernel.shape == [step.outputs, step.side, step.side, step.inputs] else {
                    throw NetworkError.invalidWeights(
                        "\(step.name): kernel shape \(kernel.shape), expected [\(step.outputs), \(step.side), \(step.side), \(step.inputs)]")
                }
                engineKernel = kernel.permuted([1, 2, 3, 0])  // OHWI → HWIO
            }
            guard bias.count == step.outputs else {
                throw NetworkError.invalidWeights("\(step.name): \(bias.count) biases, expected \(step.outputs)")
            }
            result[step.name] = ConvolutionWeights(kernel: engineKernel.scalars, foldedBias: bias.scalars, batchNorm: nil)
        }
        guard let dense = model.operators.last(where: { $0.code == .fullyConnected }), dense.inputs.count >= 3 else {
            throw NetworkError.invalidWeights("the TFLite model has no classifier layer")
        }
        let kernel = try model.floats(dense.inputs[1]), bias = try model.floats(dense.inputs[2])
        guard kernel.shape == [classCount, embeddingSize], bias.count == classCount else {
            throw NetworkError.invalidWeights("classifier kernel shape \(kernel.shape), expected [\(classCount), \(embeddingSize)]")
        }
        return Weights(convolutions: result, logits: (kernel.permuted([1, 0]).scalars, bias.scalars))
    }
}

extension YAMNet {
    /// The official TF-Hub lite model (float graph, int8 weights) and class map.
    public static let tfliteFile = WeightFile(
        path: "yamnet/yamnet.tflite", format: "tflite",
        source: .url("https://tfhub.dev/google/lite-model/yamnet/classification/tflite/1?lite-format=tflite"),
        sha256: "469be6a3421cbc52cf97e9f2f966cba984198e8e7af9854d68b3e3ebb1e04194", size: 4_078_224, license: "Apache-2.0")
    public static let classMapFile = WeightFile(
        path: "yamnet/yamnet_class_map.csv", format: "csv",
        source: .url("https://raw.githubusercontent.com/tensorflow/models/master/research/audioset/yamnet/yamnet_class_map.csv"),
        sha256: "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2", size: 14_096, license: "Apache-2.0")
    /// The official float Keras weights (research/audioset/yamnet/README.md); not reachable from this machine.
    public static let kerasFile = WeightFile(path: "yamnet/yamnet.h5", format: "keras-h5",
                                             source: .url("https://storage.googleapis.com/audioset/yamnet.h5"),
                                             sha256: nil, size: nil, license: "Apache-2.0")
    /// The AudioSet ontology: the class hierarchy that sound events' specificity follows.
    public static let ontologyFile = WeightFile(path: "audioset/ontology.json", format: "json",
                                                source: .url("https://raw.githubusercontent.com/audioset/ontology/master/ontology.json"),
                                                sha256: nil, size: nil, license: "CC-BY-SA-4.0")

    /// YAMNet with the TF-Hub lite weights found through `store` (or at `weightsPath`).
    public static func network(store: WeightStore, weightsPath: String? = nil) throws -> Network {
        try network(weights: weights(tflite: TFLiteModel(path: store.locate(tfliteFile, explicit: weightsPath))))
    }

    public static let descriptor = NetworkDescriptor(
        name: "yamnet", task: .soundClassification, depth: 28, sizeMB: 15.5, parametersMillions: 3.75, inputSize: [96, 64, 1],
        files: [tfliteFile, classMapFile], optionalFiles: [kerasFile, ontologyFile],
        architecture: { _ in try network(weights: nil) },
        load: { _, store, path in try network(store: store, weightsPath: path) })
}
