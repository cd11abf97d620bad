import AudioIO
import Foundation
import ImageIO
import Models
import NetCore

/// Transfer learning with the backbone's last layers learning too: the layers below the first trainable one run once
/// per file (their outputs kept in memory), then each epoch runs the trainable layers forward over a batch of files,
/// averages a file's examples into its features, standardizes them, and passes the head's loss back through the head
/// and the trainable layers, each with its own optimizer and learning rate.
extension Trainer {
    /// One file as fine-tuning sees it: the frozen part's outputs for its examples, how many examples, and its label.
    struct FrozenFile {
        let values: [String: Tensor]
        let examples: Int
        let label: Int
    }

    /// The backbone up to its features as built (BatchNorm unfolded), with an image layer's positions averaged.
    public func trainableBackbone() throws -> Network {
        let built = try Networks.buildable(backbone).load!(backbone, store, weightsPath).replacingLearnables(fineTunedLayers)
        if let imageFeatures {
            var network = try built.truncated(at: imageFeatures.layer)
            if network.shapes[imageFeatures.layer]!.count > 1 { try network.add("features.pooled", GlobalAveragePool()) }
            return network
        }
        return try built.truncated(at: embedder!.node)
    }

    /// The first node that learns under `fineTuning`: the `count`-th last layer with weights (a convolution or dense
    /// layer), or the first node for ``TrainingOptions/FineTuning/all``.
    static func firstTrainableNode(of network: Network, _ fineTuning: TrainingOptions.FineTuning, backbone: String) throws -> String {
        let weighted = network.nodes.filter { node in
            !(node.layer is BatchNorm) && ((node.layer as? any Backpropagating)?.learnables.isEmpty == false || node.layer.parameterCount > 0)
        }
        switch fineTuning {
        case .none, .all: return network.nodes[0].name
        case .lastLayers(let count):
            guard (1...weighted.count).contains(count) else {
                throw AudioNetError.invalidOption("\(backbone) has \(weighted.count) layers with weights below the head: fine-tune 1 to \(weighted.count) of them, or all")
            }
            return weighted[weighted.count - count].name
        }
    }

    /// The network input of one file: an audio file's examples `[P, …]`, an image `[1, H, W, 3]`; an augmented copy
    /// of it with `augmentation` and `generator`.
    func networkInput(file path: String, augmentation: Augmentation? = nil, generator: inout SplitMix64) throws -> Tensor {
        if let imageFeatures {
            var image = try RGBImage(path: path)
            if let augmentation { image = augmentation.apply(image, using: &generator) }
            return imageFeatures.preprocessing.input(for: image, centerCrop: imageFeatures.preprocessing.centerCrop)
        }
        let pipeline = embedder!.pipeline
        var samples = try AudioFileReader.readMono(path: path, sampleRate: pipeline.input.sampleRate).samples
        if let augmentation { samples = augmentation.apply(samples, sampleRate: pipeline.input.sampleRate, using: &generator) }
        let examples = pipeline.input.examples(samples, try pipeline.hop(nil))
        guard examples.count > 0 else { throw AudioNetError.invalidOption("too short for one \(backbone) example") }
        return examples.make(0, examples.count)
    }

    /// The frozen part's outputs for each file that could be read (augmented copies after the files, when asked); the
    /// others are reported through `events`, or fail the run when `strict`.
    func frozenFiles(_ files: LabeledFiles, network: FineTunableNetwork, set: String, augmentation: Augmentation? = nil, seed: UInt64 = 0,
                     strict: Bool, events: ((TrainingEvent) -> Void)?) throws -> [FrozenFile] {
        var result: [FrozenFile] = [], failures: [(String, String)] = []
        let total = files.paths.count
        for (index, path) in files.paths.enumerated() {
            do {
                var copies: [FrozenFile] = []
                for copy in -1..<(augmentation?.copies ?? 0) {  // -1: the file itself
                    var generator = Self.augmentationGenerator(seed: seed, file: index, copy: max(copy, 0))
                    let input = try networkInput(file: path, augmentation: copy < 0 ? nil : augmentation, generator: &generator)
                    let values = try network.frozenActivations(input)
                    copies.append(FrozenFile(values: values, examples: values.first!.value.shape[0], label: files.labels[index]))
                }
                result += copies
            } catch {
                if strict { throw AudioNetError.invalidOption("\(path): \(error)") }
                failures.append((path, "\(error)"))
            }
            if index + 1 == total || (index + 1) % 100 == 0 { events?(.frozenLayers(set: set, done: index + 1, total: total)) }
        }
        if let first = failures.first { events?(.skipped(set: set, count: failures.count, first: first.0, error: first.1)) }
        guard !result.isEmpty || total == 0 else { throw AudioNetError.invalidOption("no \(set) file could be read") }
        return result
    }

    /// The frozen outputs of `files` stacked along the batch axis, as the trainable layers read them.
    static func stacked(_ files: [FrozenFile]) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: files[0].values.keys.map { name in
            let rows = files.reduce(0) { $0 + $1.values[name]!.shape[0] }
            return (name, Tensor(shape: [rows] + files[0].values[name]!.shape.dropFirst(), scalars: files.flatMap { $0.values[name]!.scalars }))
        })
    }

    /// Each file's features: the mean of its examples' rows of `output` `[ΣP, F]`.
    static func clipFeatures(_ output: Tensor, of files: [FrozenFile]) -> Tensor {
        let width = output.shape.last!
        var features = [Float](repeating: 0, count: files.count * width), row = 0
        for (index, file) in files.enumerated() {
            for _ in 0..<file.examples {
                for j in 0..<width { features[index * width + j] += output.scalars[row * width + j] / Float(file.examples) }
                row += 1
            }
        }
        return Tensor(shape: [files.count, width], scalars: features)
    }

    /// The features of every file with the network as it is, a batch of files at a time.
    static func features(of files: [FrozenFile], network: FineTunableNetwork, batchSize: Int) -> Tensor {
        var scalars: [Float] = []
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let batch = Array(files[start..<min(files.count, start + batchSize)])
            scalars += clipFeatures(network.forward(from: stacked(batch))[network.outputName]!, of: batch).scalars
        }
        return Tensor(shape: [files.count, scalars.count / max(files.count, 1)], scalars: scalars)
    }

    /// Trains the head and the backbone's trainable layers on `train`, stopping early on the loss of `validation` when
    /// it has files, and returns the best epoch's head, standardisation and fine-tuned layers.
    func fineTune(train: LabeledFiles, validation: LabeledFiles, classes: Int, options: TrainingOptions, strict: Bool,
                  events: ((TrainingEvent) -> Void)?) throws
        -> (head: ClassifierHead, mean: [Float], scale: [Float], bestEpoch: Int, layers: [String: [[Float]]], trainingFiles: Int,
            held: (features: Tensor, labels: [Int])?) {
        let backboneNetwork = try trainableBackbone()
        var network = try FineTunableNetwork(backboneNetwork, trainableFrom: try Self.firstTrainableNode(of: backboneNetwork, options.fineTuning, backbone: backbone),
                                             seed: options.seed)
        network.batchNormStatistics = options.batchNormStatistics
        let trainFiles = try frozenFiles(train, network: network, set: "training", augmentation: options.augmentation, seed: options.seed,
                                         strict: strict, events: events)
        let heldFiles = try frozenFiles(validation, network: network, set: "validation", strict: strict, events: events)
        let count = trainFiles.count, batchSize = options.batchSize

        // Standardisation from the training files' features before fine-tuning (population σ), fixed from then on.
        let initial = Self.features(of: trainFiles, network: network, batchSize: batchSize)
        let width = initial.shape[1]
        var mean = [Float](repeating: 0, count: width), variance = mean
        for row in 0..<count { for j in 0..<width { mean[j] += initial.scalars[row * width + j] / Float(count) } }
        for row in 0..<count { for j in 0..<width { let d = initial.scalars[row * width + j] - mean[j]; variance[j] += d * d / Float(count) } }
        let scale = variance.map { $0 > 1e-12 ? 1 / $0.squareRoot() : 1 }
        func standardized(_ x: Tensor) -> Tensor {
            Tensor(shape: x.shape, scalars: x.scalars.enumerated().map { ($1 - mean[$0 % width]) * scale[$0 % width] })
        }
        let labels = trainFiles.map(\.label)
        let counts = (0..<classes).map { c in labels.filter { $0 == c }.count }
        let classWeights = options.balanceClasses ? counts.map { $0 > 0 ? Float(count) / Float(classes * $0) : 0 } : nil

        var generator = SplitMix64(seed: options.seed)
        var head = ClassifierHead(inputs: width, classes: classes, hidden: options.hidden, generator: &generator)
        let backboneRate = options.backboneLearningRate ?? options.learningRate / 10
        var headOptimizer = options.optimizer.make(learningRate: options.learningRate, weightDecay: options.weightDecay)
        var backboneOptimizer = options.optimizer.make(learningRate: backboneRate, weightDecay: options.weightDecay)
        let batchesPerEpoch = (count + batchSize - 1) / batchSize
        let headDecay = CosineDecay(base: options.learningRate, steps: options.epochs * batchesPerEpoch, warmup: options.warmupEpochs * batchesPerEpoch)
        let backboneDecay = CosineDecay(base: backboneRate, steps: options.epochs * batchesPerEpoch, warmup: options.warmupEpochs * batchesPerEpoch)
        var best = (loss: Float.infinity, head: head.parameters, backbone: network.learnables, statistics: network.statistics, epoch: 0)
        var order = Array(0..<count), step = 0
        for epoch in 1...options.epochs {
            order.shuffle(using: &generator)
            var lossSum: Float = 0
            for start in stride(from: 0, to: count, by: batchSize) {
                headOptimizer.learningRate = headDecay.rate(atStep: step)
                backboneOptimizer.learningRate = backboneDecay.rate(atStep: step)
                step += 1
                let batch = order[start..<min(start + batchSize, count)].map { trainFiles[$0] }
                let values = network.trainingForward(from: Self.stacked(batch))
                let output = values[network.outputName]!
                let (loss, headGradients, featureGradient) = head.lossAndGradients(standardized(Self.clipFeatures(output, of: batch)),
                                                                                   labels: batch.map(\.label), classWeights: classWeights)
                // Back through the standardisation and each file's mean over its examples.
                var outputGradient = Tensor(zeros: output.shape), row = 0
                for (index, file) in batch.enumerated() {
                    for _ in 0..<file.examples {
                        for j in 0..<width {
                            outputGradient.scalars[row * width + j] = featureGradient.scalars[index * width + j] * scale[j] / Float(file.examples)
                        }
                        row += 1
                    }
                }
                var headParameters = head.parameters, backboneParameters = network.learnables
                headOptimizer.step(&headParameters, gradients: headGradients)
                backboneOptimizer.step(&backboneParameters, gradients: network.backward(values, outputGradient: outputGradient))
                head.parameters = headParameters
                network.setLearnables(backboneParameters)
                lossSum += loss * Float(batch.count)
            }
            var validationLoss: Float?, validationAccuracy: Double?
            if !heldFiles.isEmpty {
                let logits = head.logits(standardized(Self.features(of: heldFiles, network: network, batchSize: batchSize)))
                validationLoss = SoftmaxCrossEntropy.loss(logits: logits, labels: heldFiles.map(\.label), classWeights: classWeights).loss
                validationAccuracy = Evaluation.accuracy(logits: logits, labels: heldFiles.map(\.label))
            }
            events?(.epoch(EpochReport(epoch: epoch, trainLoss: lossSum / Float(count), validationLoss: validationLoss,
                                       validationAccuracy: validationAccuracy)))
            let monitored = validationLoss ?? lossSum / Float(count)
            if monitored < best.loss {
                best = (monitored, head.parameters, network.learnables, network.statistics, epoch)
            } else if validationLoss != nil && epoch - best.epoch >= options.patience {
                break
            }
        }
        head.parameters = best.head
        network.setLearnables(best.backbone)
        network.setStatistics(best.statistics)
        // A BatchNorm layer's running statistics follow its learnables when batches moved them.
        let layers = Dictionary(uniqueKeysWithValues: network.trainable.compactMap { node -> (String, [[Float]])? in
            var arrays = (node.layer as! any Backpropagating).learnables
            if options.batchNormStatistics == .batch, let norm = node.layer as? BatchNorm { arrays += [norm.mean, norm.variance] }
            return arrays.isEmpty ? nil : (node.name, arrays)
        })
        let held = heldFiles.isEmpty ? nil : (Self.features(of: heldFiles, network: network, batchSize: batchSize), heldFiles.map(\.label))
        return (head, mean, scale, best.epoch, layers, trainFiles.count / (1 + (options.augmentation?.copies ?? 0)), held)
    }
}
