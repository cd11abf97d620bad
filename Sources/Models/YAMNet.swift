import DSP
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

    /// Convolution names in network order with their input channels, output channels, stride, kind and kernel side.
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

    /// Builds the network from weights keyed by yamnet.py's Keras variable names (the official `yamnet.h5`'s
    /// ``KerasWeights/stateDict``), or with zero weights and the
    /// BatchNorm layers in place when nil (enough for `audionet info`):
    /// - `layer1/conv/kernel` `[3, 3, 1, 32]` (HWIO), `layer2/depthwise_conv/depthwise_kernel` `[3, 3, 32, 1]`,
    ///   `layer2/pointwise_conv/kernel` `[1, 1, 32, 64]`…;
    /// - after each, its BatchNorm without scale (`…/bn/beta`, `moving_mean`, `moving_variance`), or, in a
    ///   TF Lite file, the BatchNorm folded into a convolution bias `…/bias`;
    /// - the classifier `dense/kernel` `[1024, 521]` and `dense/bias` (yamnet.py leaves the Dense unnamed).
    ///
    /// Node names follow yamnet.py; the outputs are `embeddings`, `logits` and `predictions`.
    public static func network(weights: [String: Tensor]?, unused: [String] = []) throws -> Network {
        let binder = weights.map { WeightBinder($0, unused: unused) }
        var net = Network(inputShape: patchShape)
        try net.add("reshape", Reshape(patchShape + [1]))
        for step in convolutionPlan {
            let kernel = step.depthwise
                ? try binder?.take("\(step.name)/depthwise_kernel", [3, 3, step.inputs, 1])
                : try binder?.take("\(step.name)/kernel", [step.side, step.side, step.inputs, step.outputs])
            let foldedBias = try binder?.takeIfPresent("\(step.name)/bias", [step.outputs])
            let layer: any Layer = step.depthwise
                ? DepthwiseConv2D(channels: step.inputs, kernel: (3, 3), stride: (step.stride, step.stride), padding: .same,
                                  weights: kernel?.scalars, bias: foldedBias?.scalars)
                : Conv2D(inputChannels: step.inputs, outputChannels: step.outputs,
                         kernel: (step.side, step.side), stride: (step.stride, step.stride),
                         padding: .same, weights: kernel?.scalars, bias: foldedBias?.scalars)
            try net.add(step.name, layer)
            if foldedBias == nil {
                let bn = "\(step.name)/bn", zeros = [Float](repeating: 0, count: step.outputs)
                try net.add(bn, BatchNorm(gamma: nil,
                                          beta: try binder?.take("\(bn)/beta", [step.outputs]).scalars ?? zeros,
                                          mean: try binder?.take("\(bn)/moving_mean", [step.outputs]).scalars ?? zeros,
                                          variance: try binder?.take("\(bn)/moving_variance", [step.outputs]).scalars ?? zeros.map { _ in 1 },
                                          epsilon: batchNormEpsilon))
            }
            try net.add(step.name == "layer1/conv" ? "layer1/relu" : "\(step.name)/relu", ActivationLayer(.relu))
        }
        try net.add("embeddings", GlobalAveragePool())
        try net.add("logits", Dense(inputFeatures: embeddingSize, outputFeatures: classCount,
                                    weights: try binder?.take("dense/kernel", [embeddingSize, classCount]).scalars,
                                    bias: try binder?.take("dense/bias", [classCount]).scalars))
        try net.add("predictions", ActivationLayer(.sigmoid))
        try binder?.finished()
        return net
    }

    /// The TF-Hub lite model's constant tensors by the Keras names (`sanitize`): TF Lite names a tensor by the
    /// `;`-joined scopes of the operations fused into it, the first being its own, under `yamnet_frames/`.
    /// `layerN/…/Conv2D` is a kernel (OHWI, made HWIO); `…/bn/FusedBatchNormV3` is a depthwise kernel
    /// (`[1, 3, 3, C]`) or the BatchNorm folded into a bias (`[C]`); `dense/MatMul` (`[521, 1024]`) and
    /// `dense/BiasAdd/ReadVariableOp/resource` are the classifier. Other constants keep their scope name: the
    /// model's own int8 DFT front end (`tf_op_layer_…`) and shape operands, which the network does not use.
    public static func stateDict(tflite model: TFLiteModel) throws -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (index, tensor) in model.tensors.enumerated() where tensor.data != nil {
            let scope = String(tensor.name.split(separator: ";").first ?? "")
            let name = scope.hasPrefix("yamnet_frames/") ? String(scope.dropFirst("yamnet_frames/".count)) : scope
            let key: String, value: Tensor
            if name.hasSuffix("/Conv2D") {
                key = String(name.dropLast("/Conv2D".count)) + "/kernel"
                value = try model.floats(index).permuted([1, 2, 3, 0])  // OHWI → HWIO
            } else if name.hasSuffix("/depthwise_conv/bn/FusedBatchNormV3"), tensor.shape.count == 4 {
                let values = try model.floats(index)
                key = String(name.dropLast("/bn/FusedBatchNormV3".count)) + "/depthwise_kernel"
                value = values.reshaped([values.shape[1], values.shape[2], values.shape[3], 1])  // [1, kh, kw, C] → [kh, kw, C, 1]
            } else if name.hasSuffix("/bn/FusedBatchNormV3") {
                key = String(name.dropLast("/bn/FusedBatchNormV3".count)) + "/bias"
                value = try model.floats(index)
            } else if name == "dense/MatMul" {
                key = "dense/kernel"
                value = try model.floats(index).permuted([1, 0])
            } else if name == "dense/BiasAdd/ReadVariableOp/resource" {
                key = "dense/bias"
                value = try model.floats(index)
            } else {
                key = name
                value = Tensor(shape: [0], scalars: [])  // never bound: only its name is checked
            }
            guard state[key] == nil else { throw NetworkError.invalidWeights("YAMNet: two TF Lite tensors are named '\(key)'") }
            state[key] = value
        }
        return state
    }

    /// The constants of the TF-Hub lite model that are not network weights: its int8 DFT front end and the
    /// shape operands of the reshape and the global average pool.
    public static let unusedTFLiteScopes = ["tf_op_layer_", "reshape/", "global_average_pooling2d/"]
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

    /// YAMNet with the TF-Hub lite weights found through `store`, or with the weights at `weightsPath`: a TF Lite
    /// model, or the official Keras `yamnet.h5` (a path ending in `.h5`).
    public static func network(store: WeightStore, weightsPath: String? = nil) throws -> Network {
        if let weightsPath, weightsPath.hasSuffix(".h5") {
            return try network(weights: KerasWeights(path: store.locate(kerasFile, explicit: weightsPath)).stateDict)
        }
        return try network(weights: stateDict(tflite: TFLiteModel(path: store.locate(tfliteFile, explicit: weightsPath))),
                           unused: unusedTFLiteScopes)
    }

    public static let descriptor = NetworkDescriptor(
        // Named as its front end: the name is spelled once, in DSP's front-end table.
        name: LogMelFrontEnd.yamnet.name, task: .soundClassification, depth: 28, sizeMB: 15.5, parametersMillions: 3.75, inputSize: [96, 64, 1],
        files: [tfliteFile, classMapFile], optionalFiles: [kerasFile, ontologyFile],
        architecture: { _, _ in try network(weights: nil) },
        load: { _, store, path in try network(store: store, weightsPath: path) },
        audio: { _ in audioInput })

    /// Patches per network call. Measured (`audionet-bench yamnet`, batches side by side on the cores): 8 keeps the
    /// early layers' activations (0.8 MB per patch) in cache and still gives the late 1×1 convolutions 48-row
    /// products; 32 was 25 % slower, 4 no faster.
    static let audioInput = AudioInput.logMel(.yamnet, batchSize: 8, scores: "predictions", embeddings: "embeddings")
}
