import AudioIO
import Foundation
import ImageIO
import Models
import NetCore

/// How a head is trained; the defaults are the recipe `audionet train` ships.
public struct TrainingOptions: Sendable {
    /// Hidden ReLU units (0: softmax regression).
    public var hidden = 0
    public var epochs = 50
    public var batchSize = 32
    /// Adam's initial learning rate (it decays to zero along a cosine over `epochs`) and L2 weight decay.
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-4
    /// Epochs without a lower validation loss before training stops (the best epoch's parameters are kept).
    public var patience = 10
    /// Weight each class by `N / (classes · count)` (scikit-learn's "balanced"), so unbalanced folders do not bias the head.
    public var balanceClasses = true
    /// The share of each class held out for early stopping when no validation set is given (0: none).
    public var validationFraction = 0.2
    /// Augmented copies of the training files (none by default).
    public var augmentation: Augmentation?
    /// Seed of the split, the initial weights, the shuffles and the augmentation.
    public var seed: UInt64 = 0
    /// The backbone layers that learn with the head (none by default: the backbone stays frozen).
    public var fineTuning: FineTuning = .none
    /// The fine-tuned backbone layers' learning rate; nil: a tenth of ``learningRate``.
    public var backboneLearningRate: Float?
    public var optimizer: OptimizerKind = .adam
    /// Epochs over which the learning rates first climb linearly from a step's worth to their initial values.
    public var warmupEpochs = 0
    /// What the fine-tuned BatchNorm layers normalise with while training: their running statistics, frozen (the
    /// default), or each batch's, the running ones updated and saved in the model.
    public var batchNormStatistics = FineTunableNetwork.BatchNormStatistics.frozen

    /// Which backbone layers learn.
    public enum FineTuning: Sendable, Equatable {
        /// The backbone stays frozen; only the head learns (features computed once, cached on disk).
        case none
        /// The last `count` layers with weights below the head (convolutions and dense layers; the BatchNorm and
        /// activations after the first of them learn too, BatchNorm as ``TrainingOptions/batchNormStatistics`` says).
        case lastLayers(Int)
        /// Every layer of the backbone.
        case all
    }

    /// The optimizers training can use.
    public enum OptimizerKind: String, Sendable, CaseIterable {
        /// Adam with L2 weight decay (`torch.optim.Adam`).
        case adam
        /// Adam with decoupled weight decay (`torch.optim.AdamW`).
        case adamw
        /// SGD with momentum 0.9 (`torch.optim.SGD`).
        case sgd

        /// The optimizer at `learningRate` with `weightDecay`.
        func make(learningRate: Float, weightDecay: Float) -> any Optimizer {
            switch self {
            case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay)
            case .adamw: return Adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
            case .sgd: return SGD(learningRate: learningRate, momentum: 0.9, weightDecay: weightDecay)
            }
        }

        var name: String { ["adam": "Adam", "adamw": "AdamW", "sgd": "SGD-momentum"][rawValue]! }
    }

    public init() {}

    /// The options as recorded in a model file.
    public var record: [String: String] {
        var record = ["hidden": "\(hidden)", "epochs": "\(epochs)", "batchSize": "\(batchSize)", "learningRate": "\(learningRate)",
                      "weightDecay": "\(weightDecay)", "patience": "\(patience)", "balanceClasses": "\(balanceClasses)", "seed": "\(seed)",
                      "validationFraction": "\(validationFraction)", "optimizer": optimizer.name, "schedule": "cosine",
                      "loss": "softmax cross-entropy"]
        if warmupEpochs > 0 { record["warmupEpochs"] = "\(warmupEpochs)" }
        switch fineTuning {
        case .none: break
        case .lastLayers(let count): record["fineTuneLayers"] = "\(count)"
        case .all: record["fineTuneLayers"] = "all"
        }
        if fineTuning != .none {
            record["backboneLearningRate"] = String(format: "%g", backboneLearningRate ?? learningRate / 10)
            record["batchNormStatistics"] = batchNormStatistics.rawValue
        }
        return record.merging(augmentation?.record ?? [:]) { first, _ in first }
    }
}

/// What a training run reports as it goes, for progress lines.
public enum TrainingEvent: Sendable {
    /// `done` of `total` files of a set ("training" or "validation") embedded, `cached` of them read from the cache.
    case embedding(set: String, done: Int, total: Int, cached: Int)
    /// `done` of `total` files of a set run through the layers that stay frozen while the backbone is fine-tuned.
    case frozenLayers(set: String, done: Int, total: Int)
    /// Files of a set that could not be read and were skipped: how many, and the first with its error.
    case skipped(set: String, count: Int, first: String, error: String)
    case epoch(EpochReport)
}

/// Clip embeddings of files: a row per file that could be read (`kept` holds their indices); the others with their error.
public struct EmbeddedFiles: Sendable {
    public let embeddings: Tensor
    public let kept: [Int]
    public let failures: [(path: String, error: String)]
    /// How many of the kept files came from the cache.
    public let cached: Int
}

/// One epoch's figures, for a progress line.
public struct EpochReport: Sendable {
    public let epoch: Int
    public let trainLoss: Float
    public let validationLoss: Float?
    public let validationAccuracy: Double?
}

/// Transfer learning on a frozen network: one feature vector per labelled file — an audio network's clip embedding
/// (the mean of its per-example embeddings) or an image network's pooled features at a layer — then a head trained
/// on them with Adam (cosine decay) and early stopping.
public final class Trainer: Sendable {
    /// The backbone's name (`yamnet`, `resnet50`, …).
    public let backbone: String
    /// An audio backbone's embedder (nil for an image backbone).
    public let embedder: AudioEmbedder?
    /// An image backbone's features (nil for an audio backbone).
    public let imageFeatures: ImageFeatures?
    /// SHA-256 of the backbone's weight file, recorded in the model so that a model is never run on other weights.
    public let backboneSHA256: String?
    /// Features per file.
    public let featureCount: Int
    /// The backbone layers a fine-tuned model changed, by node name (empty: the backbone's own weights).
    public let fineTunedLayers: [String: [[Float]]]
    /// Where the backbone's weights come from, for fine-tuning (which builds the backbone again, BatchNorm unfolded).
    let store: WeightStore, weightsPath: String?

    /// The network `backbone` with its weights from `store` (or `weightsPath`), and the learnables of `fineTuned` layers
    /// replaced (a fine-tuned model's): an audio embedding network, or an image network read at `layer` (default: its
    /// classifier's input; audio networks take no layer).
    public init(backbone: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil, layer: String? = nil,
                fineTuned: [String: [[Float]]] = [:]) throws {
        self.backbone = backbone
        (self.store, self.weightsPath, fineTunedLayers) = (store, weightsPath, fineTuned)
        let descriptor = try Networks.buildable(backbone)
        let built = { try descriptor.load!(backbone, store, weightsPath).replacingLearnables(fineTuned) }
        if descriptor.imagePreprocessing != nil {
            let features = try ImageFeatures(backbone, network: try built(), layer: layer)
            (embedder, imageFeatures, featureCount) = (nil, features, features.featureCount)
        } else {
            guard layer == nil else { throw AudioNetError.invalidOption("a layer can be chosen for image backbones only, not \(backbone)") }
            guard let input = descriptor.audio?(backbone), input.embeddings != nil else {
                throw AudioNetError.invalidOption("'\(backbone)' gives no audio embeddings (embedding networks: \(Networks.audioEmbedding.joined(separator: ", ")))")
            }
            let audio = try AudioEmbedder(pipeline: AudioPipeline(name: backbone, input: input, network: try built()))
            (embedder, imageFeatures, featureCount) = (audio, nil, audio.pipeline.network.shapes[audio.node]?.last ?? 0)
        }
        backboneSHA256 = try Self.weightsSHA256(backbone, store: store, weightsPath: weightsPath)
    }

    /// The layer an image backbone is read at (nil for audio).
    public var layer: String? { imageFeatures?.layer }

    /// One file's feature vector: an audio file's clip embedding, or an image's features.
    public func features(file path: String) throws -> [Float] {
        if let imageFeatures { return try imageFeatures.features(file: path) }
        return try clipEmbedding(embedder!.embed(file: path).embeddings)
    }

    /// The SHA-256 of the weight file `backbone` loads.
    static func weightsSHA256(_ backbone: String, store: WeightStore, weightsPath: String?) throws -> String? {
        guard let file = Networks.named(backbone)?.files(for: backbone).first else { return nil }
        return try WeightFetcher.sha256(path: try store.locate(file, explicit: weightsPath))
    }

    /// The clip embedding of each file, `[N, features]`, for the files that could be read, the others with their
    /// error; read from `cache` when it has them, else computed and stored there. `progress` receives the count of
    /// files done.
    public func embed(_ paths: [String], cache: EmbeddingCache? = nil, progress: ((_ done: Int, _ cached: Int) -> Void)? = nil) -> EmbeddedFiles {
        let width = featureCount, cache = fineTunedLayers.isEmpty ? cache : nil  // the cache holds the backbone's own features
        var rows: [Float] = [], kept: [Int] = [], failures: [(String, String)] = [], cached = 0
        for (index, path) in paths.enumerated() {
            do {
                let location = try cache?.location(of: path, backbone: backbone + (layer.map { "-" + $0 } ?? ""), backboneSHA256: backboneSHA256)
                if let location, let row = cache?.read(location, width: width) {
                    rows += row
                    cached += 1
                } else {
                    let row = try features(file: path)
                    if let location { cache?.write(row, to: location) }
                    rows += row
                }
                kept.append(index)
            } catch {
                failures.append((path, "\(error)"))
            }
            progress?(index + 1, cached)
        }
        return EmbeddedFiles(embeddings: Tensor(shape: [kept.count, width], scalars: rows), kept: kept, failures: failures, cached: cached)
    }

    /// The features of augmented copies of each file (`augmentation.copies` rows per file that could be read: an audio
    /// file's clip embedding, an image's features), each copy drawn from its own seed so that a run repeats. Never cached.
    func embedAugmented(_ paths: [String], augmentation: Augmentation, seed: UInt64,
                        progress: ((Int) -> Void)? = nil) throws -> (embeddings: Tensor, kept: [Int]) {
        var rows: [Float] = [], kept: [Int] = []
        for (index, path) in paths.enumerated() {
            if let imageFeatures {
                guard let image = try? RGBImage(path: path) else { continue }
                for copy in 0..<augmentation.copies {
                    var generator = Self.augmentationGenerator(seed: seed, file: index, copy: copy)
                    guard let row = try? imageFeatures.features(of: augmentation.apply(image, using: &generator)) else { continue }
                    rows += row
                    kept.append(index)
                }
            } else if let embedder {
                let rate = embedder.pipeline.input.sampleRate
                guard let samples = try? AudioFileReader.readMono(path: path, sampleRate: rate).samples else { continue }
                for copy in 0..<augmentation.copies {
                    var generator = Self.augmentationGenerator(seed: seed, file: index, copy: copy)
                    guard let row = try? clipEmbedding(embedder.embed(samples: augmentation.apply(samples, sampleRate: rate, using: &generator)).embeddings) else { continue }
                    rows += row
                    kept.append(index)
                }
            }
            progress?(index + 1)
        }
        return (Tensor(shape: [kept.count, featureCount], scalars: rows), kept)
    }

    /// The generator of one augmented copy of one file: its own seed, so that a run repeats.
    static func augmentationGenerator(seed: UInt64, file: Int, copy: Int) -> SplitMix64 {
        SplitMix64(seed: seed ^ (UInt64(file) << 20 | UInt64(copy)) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The mean of a file's per-example embeddings.
    func clipEmbedding(_ embeddings: Tensor) throws -> [Float] {
        let count = embeddings.shape[0], width = embeddings.shape[1]
        guard count > 0 else { throw AudioNetError.invalidOption("too short for one \(backbone) example") }
        var mean = [Float](repeating: 0, count: width)
        for row in 0..<count { for j in 0..<width { mean[j] += embeddings.scalars[row * width + j] } }
        return mean.map { $0 / Float(count) }
    }

    /// Trains a classifier on `dataset` in one call: holds out `options.validationFraction` of each class (or uses
    /// `validation`), embeds the files (through `cache`), adds augmented copies when asked, fits the head with early
    /// stopping, and measures it on the held-out files. Unreadable files are skipped (reported through `events`),
    /// or fail the run when `strict`.
    public func fit(dataset: LabeledFiles, validation: LabeledFiles? = nil, options: TrainingOptions = TrainingOptions(),
                    cache: EmbeddingCache? = nil, strict: Bool = false, events: ((TrainingEvent) -> Void)? = nil) throws -> TrainedClassifier {
        if let validation, validation.classes != dataset.classes {
            throw AudioNetError.invalidOption("the validation classes (\(validation.classes.joined(separator: ", "))) differ from the training classes (\(dataset.classes.joined(separator: ", ")))")
        }
        let split = validation == nil ? dataset.split(validationFraction: options.validationFraction, seed: options.seed)
                                      : (train: Array(dataset.paths.indices), validation: [])
        let trainFiles = dataset.subset(split.train)
        let heldFiles = validation ?? dataset.subset(split.validation)
        if options.fineTuning != .none {
            let result = try fineTune(train: trainFiles, validation: heldFiles, classes: dataset.classes.count, options: options, strict: strict,
                                      events: events)
            var model = TrainedClassifier(backbone: backbone, backboneSHA256: backboneSHA256, classes: dataset.classes,
                                          mean: result.mean, scale: result.scale, head: result.head, recipe: options.record)
            model.layer = layer
            model.fineTunedLayers = result.layers
            model.metrics["bestEpoch"] = Double(result.bestEpoch)
            model.metrics["trainingFiles"] = Double(result.trainingFiles)
            if let copies = options.augmentation?.copies, copies > 0 { model.metrics["augmentedExamples"] = Double(copies * result.trainingFiles) }
            if let held = result.held { model.measure(on: held.features, labels: held.labels) }
            return model
        }
        func embedded(_ files: LabeledFiles, _ set: String) throws -> (embeddings: Tensor, labels: [Int]) {
            let total = files.paths.count
            let result = embed(files.paths, cache: cache) { done, cached in
                if done == total || done % 100 == 0 { events?(.embedding(set: set, done: done, total: total, cached: cached)) }
            }
            if let first = result.failures.first {
                if strict { throw AudioNetError.invalidOption("\(first.path): \(first.error)") }
                events?(.skipped(set: set, count: result.failures.count, first: first.path, error: first.error))
            }
            guard !result.kept.isEmpty || total == 0 else { throw AudioNetError.invalidOption("no \(set) file could be read") }
            return (result.embeddings, result.kept.map { files.labels[$0] })
        }
        var train = try embedded(trainFiles, "training")
        let fileCount = train.labels.count
        let held = heldFiles.paths.isEmpty ? nil : try embedded(heldFiles, "validation")
        if let augmentation = options.augmentation, augmentation.copies > 0 {
            let total = trainFiles.paths.count
            let copies = try embedAugmented(trainFiles.paths, augmentation: augmentation, seed: options.seed) { done in
                if done == total || done % 100 == 0 { events?(.embedding(set: "augmented", done: done, total: total, cached: 0)) }
            }
            train = (Tensor(shape: [train.labels.count + copies.kept.count, train.embeddings.shape[1]], scalars: train.embeddings.scalars + copies.embeddings.scalars),
                     train.labels + copies.kept.map { trainFiles.labels[$0] })
        }
        let result = Self.fit(train: train, validation: held, classes: dataset.classes.count, options: options) { events?(.epoch($0)) }
        var model = TrainedClassifier(backbone: backbone, backboneSHA256: backboneSHA256, classes: dataset.classes,
                                      mean: result.mean, scale: result.scale, head: result.head, recipe: options.record)
        model.layer = layer
        model.metrics["bestEpoch"] = Double(result.bestEpoch)
        model.metrics["trainingFiles"] = Double(fileCount)
        if train.labels.count > fileCount { model.metrics["augmentedExamples"] = Double(train.labels.count - fileCount) }
        if let held { model.measure(on: held.embeddings, labels: held.labels) }
        return model
    }

    /// Trains a head on `train` embeddings and labels over `classes`, stopping early on the loss of `validation` when
    /// given. `report` receives each epoch's figures.
    public static func fit(train: (embeddings: Tensor, labels: [Int]), validation: (embeddings: Tensor, labels: [Int])?,
                           classes: Int, options: TrainingOptions = TrainingOptions(),
                           report: ((EpochReport) -> Void)? = nil) -> (head: ClassifierHead, mean: [Float], scale: [Float], bestEpoch: Int) {
        let features = train.embeddings.shape[1], count = train.labels.count
        // Standardisation from the training set (population σ; a constant feature keeps scale 1).
        var mean = [Float](repeating: 0, count: features), variance = [Float](repeating: 0, count: features)
        for row in 0..<count { for j in 0..<features { mean[j] += train.embeddings.scalars[row * features + j] / Float(count) } }
        for row in 0..<count {
            for j in 0..<features { let d = train.embeddings.scalars[row * features + j] - mean[j]; variance[j] += d * d / Float(count) }
        }
        let scale = variance.map { $0 > 1e-12 ? 1 / $0.squareRoot() : 1 }
        func standardized(_ x: Tensor) -> Tensor {
            Tensor(shape: x.shape, scalars: x.scalars.enumerated().map { ($1 - mean[$0 % features]) * scale[$0 % features] })
        }
        let x = standardized(train.embeddings), validationX = validation.map { standardized($0.embeddings) }
        let counts = (0..<classes).map { c in train.labels.filter { $0 == c }.count }
        let classWeights = options.balanceClasses ? counts.map { $0 > 0 ? Float(count) / Float(classes * $0) : 0 } : nil

        var generator = SplitMix64(seed: options.seed)
        var head = ClassifierHead(inputs: features, classes: classes, hidden: options.hidden, generator: &generator)
        var optimizer = options.optimizer.make(learningRate: options.learningRate, weightDecay: options.weightDecay)
        var best = (loss: Float.infinity, parameters: head.parameters, epoch: 0)
        var order = Array(0..<count), step = 0
        let batchesPerEpoch = (count + options.batchSize - 1) / options.batchSize
        let decay = CosineDecay(base: options.learningRate, steps: max(options.epochs, 1) * batchesPerEpoch,
                                warmup: options.warmupEpochs * batchesPerEpoch)
        for epoch in 1...max(options.epochs, 1) {
            order.shuffle(using: &generator)
            var lossSum: Float = 0
            for start in stride(from: 0, to: count, by: options.batchSize) {
                optimizer.learningRate = decay.rate(atStep: step)
                step += 1
                let batch = Array(order[start..<min(start + options.batchSize, count)])
                let input = x.rows(batch)
                let (loss, gradients, _) = head.lossAndGradients(input, labels: batch.map { train.labels[$0] }, classWeights: classWeights)
                var parameters = head.parameters
                optimizer.step(&parameters, gradients: gradients)
                head.parameters = parameters
                lossSum += loss * Float(batch.count)
            }
            var validationLoss: Float?, validationAccuracy: Double?
            if let validation, let validationX, !validation.labels.isEmpty {
                let logits = head.logits(validationX)
                validationLoss = SoftmaxCrossEntropy.loss(logits: logits, labels: validation.labels, classWeights: classWeights).loss
                validationAccuracy = Evaluation.accuracy(logits: logits, labels: validation.labels)
            }
            report?(EpochReport(epoch: epoch, trainLoss: lossSum / Float(count), validationLoss: validationLoss,
                                validationAccuracy: validationAccuracy))
            let monitored = validationLoss ?? lossSum / Float(count)
            if monitored < best.loss {
                best = (monitored, head.parameters, epoch)
            } else if validationLoss != nil && epoch - best.epoch >= options.patience {
                break
            }
        }
        head.parameters = best.parameters
        return (head, mean, scale, best.epoch)
    }
}
