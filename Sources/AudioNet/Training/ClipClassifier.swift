import Models
import NetCore

/// A trained classifier ready to label files: its model and its backbone's embedder, the backbone's weights checked
/// against the SHA-256 the model was trained with.
public final class ClipClassifier: Sendable {
    public let model: TrainedClassifier
    let trainer: Trainer

    /// The model at `path` with its backbone's weights from `store` (or `weightsPath`).
    public init(contentsOf path: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil) throws {
        model = try TrainedClassifier(contentsOf: path)
        do {
            trainer = try Trainer(backbone: model.backbone, store: store, weightsPath: weightsPath, layer: model.layer, fineTuned: model.fineTunedLayers)
        } catch let error as NetworkError {
            throw TrainedClassifierError.inconsistent(path, "its fine-tuned layers do not fit \(model.backbone): \(error)")
        }
        if let expected = model.backboneSHA256, let actual = trainer.backboneSHA256, expected != actual {
            throw TrainedClassifierError.backboneChanged(model: path, backbone: model.backbone, expected: expected, actual: actual)
        }
        guard trainer.featureCount == model.head.inputs else {
            throw TrainedClassifierError.inconsistent(path, "its head reads \(model.head.inputs) features, \(model.backbone) gives others")
        }
    }

    /// Class probabilities `[N, classes]` of each file's clip embedding, for the files that could be read; the
    /// others are returned with their error.
    public func probabilities(files: [String], cache: EmbeddingCache? = nil,
                              progress: ((Int) -> Void)? = nil) -> (probabilities: Tensor, kept: [Int], failures: [(path: String, error: String)]) {
        let embedded = trainer.embed(files, cache: cache) { done, _ in progress?(done) }
        return (model.probabilities(embeddings: embedded.embeddings), embedded.kept, embedded.failures)
    }

    /// Per-example class probabilities of one file (the head applied to each of the backbone's examples, as it
    /// is to their mean for the whole file), for sound events with the model's classes.
    public func analyze(file: String) throws -> PatchAnalysis {
        try analyze(samples: try AudioFileReader.readMono(path: file, sampleRate: sampleRate).samples)
    }

    /// ``analyze(file:)`` on mono samples at ``sampleRate``.
    public func analyze(samples: consuming [Float]) throws -> PatchAnalysis {
        guard let embedder = trainer.embedder else { throw AudioNetError.invalidOption("\(model.backbone) is an image network: events need an audio model") }
        let pipeline = embedder.pipeline
        let result = try pipeline.run(samples: samples, outputs: [embedder.node])
        let embeddings = result.outputs[embedder.node]!
        return PatchAnalysis(scores: model.probabilities(embeddings: embeddings), embeddings: embeddings, hopSeconds: result.hopSeconds,
                             firstCentreSeconds: pipeline.input.firstCentreSeconds, duration: result.duration)
    }

    /// The model as one network ending in class probabilities: the backbone up to its features (an image backbone's
    /// averaged over their positions), their standardisation, and the head. The network runs per example; for an
    /// audio backbone, `clipEmbedding` names the node whose output the model averages over a clip's examples before
    /// the head (``ONNXExport`` writes that average into the file).
    public func network() throws -> (network: Network, clipEmbedding: String?) {
        var network: Network, clipEmbedding: String?
        if let embedder = trainer.embedder {
            guard embedder.postprocess == nil else { throw AudioNetError.invalidOption("\(model.backbone)'s postprocessed embeddings cannot be one network") }
            network = try embedder.pipeline.network.truncated(at: embedder.node)
            clipEmbedding = embedder.node
        } else {
            let features = trainer.imageFeatures!
            network = features.network
            if network.shapes[features.layer]!.count > 1 { try network.add("head.pooled", GlobalAveragePool()) }
        }
        try network.add("head.centred", Arithmetic(.subtract, constant: Tensor(shape: [model.mean.count], scalars: model.mean)))
        try network.add("head.standardized", Arithmetic(.multiply, constant: Tensor(shape: [model.scale.count], scalars: model.scale)))
        let layers = model.head.layers
        for (index, layer) in layers.enumerated() {
            let last = index == layers.count - 1
            try network.add(last ? "head.logits" : "head.hidden\(index + 1)",
                            Dense(inputFeatures: layer.inputFeatures, outputFeatures: layer.outputFeatures, weights: layer.weights, bias: layer.bias,
                                  activation: last ? .identity : .relu))
        }
        try network.add("probabilities", Softmax())
        return (network, clipEmbedding)
    }

    /// The `k` most probable classes of one file.
    public func topClasses(file: String, k: Int) throws -> [ClassScore] {
        topClasses(features: try trainer.features(file: file), k: k)
    }

    /// The `k` most probable classes of mono samples at ``sampleRate`` (an audio model's).
    public func topClasses(samples: consuming [Float], k: Int) throws -> [ClassScore] {
        guard let embedder = trainer.embedder else { throw AudioNetError.invalidOption("\(model.backbone) is an image network, not an audio model") }
        return try topClasses(features: trainer.clipEmbedding(embedder.embed(samples: samples).embeddings), k: k)
    }

    /// The audio rate an audio model reads (its backbone's), 0 for an image model.
    public var sampleRate: Int { trainer.embedder?.pipeline.input.sampleRate ?? 0 }

    private func topClasses(features mean: [Float], k: Int) -> [ClassScore] {
        let scores = model.probabilities(embeddings: Tensor(shape: [1, mean.count], scalars: mean)).scalars
        return scores.indices.sorted { scores[$0] > scores[$1] }.prefix(max(k, 0)).map {
            ClassScore(index: $0, label: model.classes[$0], score: scores[$0])
        }
    }
}
