import Foundation
import Models
import NetCore

/// How a head is trained; the defaults are the recipe `audionet train` ships.
public struct TrainingOptions: Sendable {
    /// Hidden ReLU units (0: softmax regression).
    public var hidden = 0
    public var epochs = 200
    public var batchSize = 32
    /// Adam's learning rate and L2 weight decay.
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-4
    /// Epochs without a lower validation loss before training stops (the best epoch's parameters are kept).
    public var patience = 20
    /// Weight each class by `N / (classes · count)` (scikit-learn's "balanced"), so unbalanced folders do not bias the head.
    public var balanceClasses = true
    public var seed: UInt64 = 0

    public init() {}

    /// The options as recorded in a model file.
    public var record: [String: String] {
        ["hidden": "\(hidden)", "epochs": "\(epochs)", "batchSize": "\(batchSize)", "learningRate": "\(learningRate)",
         "weightDecay": "\(weightDecay)", "patience": "\(patience)", "balanceClasses": "\(balanceClasses)", "seed": "\(seed)",
         "optimizer": "Adam", "loss": "softmax cross-entropy"]
    }
}

/// One epoch's figures, for a progress line.
public struct EpochReport: Sendable {
    public let epoch: Int
    public let trainLoss: Float
    public let validationLoss: Float?
    public let validationAccuracy: Double?
}

/// Transfer learning on a frozen audio network: clip embeddings (the mean of the network's per-example embeddings)
/// of labelled files, then a head trained on them with Adam and early stopping.
public final class Trainer: Sendable {
    public let embedder: AudioEmbedder
    /// SHA-256 of the backbone's weight file, recorded in the model so that a model is never run on other weights.
    public let backboneSHA256: String?

    /// The embedding network `backbone` with its weights from `store` (or `weightsPath`).
    public init(backbone: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil) throws {
        embedder = try AudioEmbedder.load(backbone, store: store, weightsPath: weightsPath)
        backboneSHA256 = try Self.weightsSHA256(backbone, store: store, weightsPath: weightsPath)
    }

    /// The SHA-256 of the weight file `backbone` loads.
    static func weightsSHA256(_ backbone: String, store: WeightStore, weightsPath: String?) throws -> String? {
        guard let file = Networks.named(backbone)?.files(for: backbone).first else { return nil }
        return try WeightFetcher.sha256(path: try store.locate(file, explicit: weightsPath))
    }

    /// The clip embedding of each file, `[N, features]`, for the files that could be read; the others are returned
    /// with their error. `progress` receives the count of files done.
    public func embed(_ paths: [String], progress: ((Int) -> Void)? = nil) -> (embeddings: Tensor, kept: [Int], failures: [(path: String, error: String)]) {
        var rows: [Float] = [], kept: [Int] = [], failures: [(String, String)] = []
        var width = 0
        for (index, path) in paths.enumerated() {
            do {
                let (embeddings, _) = try embedder.embed(file: path)
                let count = embeddings.shape[0]
                width = embeddings.shape[1]
                guard count > 0 else { throw AudioNetError.invalidOption("no complete example") }
                var mean = [Float](repeating: 0, count: width)
                for row in 0..<count { for j in 0..<width { mean[j] += embeddings.scalars[row * width + j] } }
                rows += mean.map { $0 / Float(count) }
                kept.append(index)
            } catch {
                failures.append((path, "\(error)"))
            }
            progress?(index + 1)
        }
        return (Tensor(shape: [kept.count, width], scalars: rows), kept, failures)
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
        var optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        var best = (loss: Float.infinity, parameters: head.parameters, epoch: 0)
        var order = Array(0..<count)
        for epoch in 1...max(options.epochs, 1) {
            order.shuffle(using: &generator)
            var lossSum: Float = 0
            for start in stride(from: 0, to: count, by: options.batchSize) {
                let batch = Array(order[start..<min(start + options.batchSize, count)])
                let input = Tensor(shape: [batch.count, features], scalars: batch.flatMap { x.scalars[$0 * features..<($0 + 1) * features] })
                let (loss, gradients) = head.lossAndGradients(input, labels: batch.map { train.labels[$0] }, classWeights: classWeights)
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
