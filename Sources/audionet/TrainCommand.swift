import ArgumentParser
import AudioNet
import Foundation

/// `audionet train DATASET --backbone yamnet --output MODEL.audionet`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier for your own labels on a frozen network's embeddings or features.",
        discussion: """
        DATASET is a folder of class folders (the folder name is the label) or a CSV of path,label rows. Each file \
        becomes one vector: an audio file the mean of an audio backbone's embeddings, an image the features of an \
        image backbone at --layer (default: its classifier's input, averaged over positions). A head (softmax regression, or one hidden \
        ReLU layer with --hidden N) is trained on them with Adam (learning rate decaying along a cosine), stopping when the validation loss has not improved \
        for --patience epochs and keeping the best epoch. One line per epoch goes to stderr. Files that cannot be \
        read are skipped with a warning (an error with --strict). With --fine-tune-layers K (or all), the backbone's \
        last K layers with weights learn too, at --backbone-learning-rate (BatchNorm statistics frozen): the layers \
        below them run once per file, and the model file stores the changed layers.
        """
    )

    @Argument(help: "Folder of class folders, or a path,label CSV.")
    var dataset: String

    @Option(help: ArgumentHelp("The frozen network: audio \(Networks.audioEmbedding.joined(separator: ", ")); image \(ImageClassifier.available.joined(separator: ", ")).",
                               valueName: "name"))
    var backbone: String = YAMNet.descriptor.name

    @Option(help: "An image backbone's layer to read (default: the input of its classifier; see `audionet info NAME`).")
    var layer: String?

    @Option(help: "The model file to write (.audionet).")
    var output: String

    @Option(name: .customLong("validation-split"), help: "Share of each class held out to stop training early.")
    var validationSplit: Double = TrainingOptions().validationFraction

    @Option(help: "A separate validation dataset (instead of --validation-split).")
    var validation: String?

    @Option(help: "Hidden ReLU units (0: softmax regression).")
    var hidden: Int = TrainingOptions().hidden

    @Option(help: "Epochs (the learning rate decays to zero along a cosine over them).") var epochs: Int = TrainingOptions().epochs
    @Option(name: .customLong("batch-size"), help: "Examples per Adam step.") var batchSize: Int = TrainingOptions().batchSize
    @Option(name: .customLong("learning-rate"), help: "Adam's initial learning rate.") var learningRate: Float = TrainingOptions().learningRate
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay.") var weightDecay: Float = TrainingOptions().weightDecay
    @Option(help: "Epochs without a lower validation loss before stopping.") var patience: Int = TrainingOptions().patience
    @Option(help: "Seed of the split, the initial weights and the shuffles.") var seed: UInt64 = TrainingOptions().seed
    @Flag(name: .customLong("no-class-weights"), help: "Do not weight classes by their rarity.") var noClassWeights = false
    @Option(help: ArgumentHelp("Augmented copies of each training file (audio: random gain, shift and noise; images: random crop and flip).", valueName: "copies"))
    var augment: Int = 0
    @Option(name: .customLong("augment-snr"), help: "Signal-to-noise ratio of the augmentation's noise, dB.") var augmentSNR: Float = 20
    @Option(name: .customLong("fine-tune-layers"),
            help: ArgumentHelp("Backbone layers with weights that learn with the head: the last K, or all (default: none, a frozen backbone).",
                               valueName: "K|all"))
    var fineTuneLayers: String?
    @Option(name: .customLong("backbone-learning-rate"), help: "The fine-tuned layers' initial learning rate (default: a tenth of --learning-rate).")
    var backboneLearningRate: Float?
    @Option(help: ArgumentHelp("adam (L2 weight decay), adamw (decoupled weight decay) or sgd (momentum 0.9).", valueName: "name"))
    var optimizer: String = TrainingOptions().optimizer.rawValue
    @Option(name: .customLong("warmup-epochs"), help: "Epochs over which the learning rates climb linearly before the cosine decay.")
    var warmupEpochs: Int = 0
    @Option(name: .customLong("batch-norm"),
            help: ArgumentHelp("What fine-tuned BatchNorm layers normalise with: their running statistics, frozen, or each batch's (running ones updated).",
                               valueName: "frozen|batch"))
    var batchNorm: String?
    @Flag(help: "Stop at the first file that cannot be read.") var strict = false
    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the embedding cache.") var noCache = false

    @Option(help: "Backbone weights file (default: looked up in the weight store).")
    var weights: String?

    func validate() throws {
        guard hidden >= 0, epochs > 0, batchSize > 0, patience > 0 else { throw CommandError("--hidden, --epochs, --batch-size and --patience must be positive") }
        guard learningRate > 0, learningRate.isFinite, weightDecay >= 0 else { throw CommandError("--learning-rate must be positive and --weight-decay not negative") }
        guard validation != nil || (0..<1).contains(validationSplit) else { throw CommandError("--validation-split must be within [0, 1)") }
        guard (0...100).contains(augment), augmentSNR.isFinite else { throw CommandError("--augment must be within 0...100 copies and --augment-snr finite") }
        _ = try fineTuning()
        guard TrainingOptions.OptimizerKind(rawValue: optimizer) != nil else {
            throw CommandError("--optimizer must be one of \(TrainingOptions.OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")), not '\(optimizer)'")
        }
        guard (0..<epochs).contains(warmupEpochs) else { throw CommandError("--warmup-epochs must be within 0..<\(epochs) (the epochs)") }
        guard backboneLearningRate.map({ $0 > 0 && $0.isFinite }) ?? true else { throw CommandError("--backbone-learning-rate must be positive") }
        guard backboneLearningRate == nil || fineTuneLayers != nil else { throw CommandError("--backbone-learning-rate needs --fine-tune-layers") }
        if let batchNorm {
            guard FineTunableNetwork.BatchNormStatistics(rawValue: batchNorm) != nil else { throw CommandError("--batch-norm must be frozen or batch, not '\(batchNorm)'") }
            guard fineTuneLayers != nil else { throw CommandError("--batch-norm needs --fine-tune-layers") }
        }
        var isFolder: ObjCBool = false
        // Refused before the files are embedded, not after.
        guard !(FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw CommandError("cannot write '\(output)': it is a directory")
        }
    }

    func run() throws {
        let files = try LabeledFiles(contentsOf: dataset)
        let held = try validation.map { try LabeledFiles(contentsOf: $0) }
        // The dataset's files too: a model written into a class folder must not replace one of its files.
        try OutputFile.checkDistinct(outputs: [output], inputs: [dataset, validation, weights].compactMap { $0 } + files.paths + (held?.paths ?? []))
        var options = TrainingOptions()
        options.hidden = hidden
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.weightDecay = weightDecay
        options.patience = patience
        options.balanceClasses = !noClassWeights
        options.validationFraction = validationSplit
        options.seed = seed
        if augment > 0 {
            options.augmentation = Augmentation(copies: augment)
            options.augmentation?.noiseSNR = augmentSNR
        }
        options.fineTuning = try fineTuning()
        options.backboneLearningRate = backboneLearningRate
        options.optimizer = TrainingOptions.OptimizerKind(rawValue: optimizer)!
        options.warmupEpochs = warmupEpochs
        options.batchNormStatistics = batchNorm.flatMap(FineTunableNetwork.BatchNormStatistics.init(rawValue:)) ?? .frozen
        let trainer = try Trainer(backbone: backbone, weightsPath: weights, layer: layer)
        let model = try trainer.fit(dataset: files, validation: held, options: options, cache: noCache ? nil : EmbeddingCache.user(),
                                    strict: strict) { event in
            FileHandle.standardError.write(Data((Self.line(event) + "\n").utf8))
        }
        try model.save(to: output)
        let trained = Int(model.metrics["trainingFiles"] ?? 0), bestEpoch = Int(model.metrics["bestEpoch"] ?? 0)
        let augmented = model.metrics["augmentedExamples"].map { " (+\(Int($0)) augmented)" } ?? ""
        let validationText = model.metrics["validationAccuracy"].map {
            ", validation accuracy \(String(format: "%.3f", $0)) on \(Int(model.metrics["validationFiles"] ?? 0)) files"
        } ?? ""
        print("\(output): \(files.classes.count) classes, \(trained) training files\(augmented), best epoch \(bestEpoch)\(validationText)")
    }

    /// `--fine-tune-layers` read: a count of at least 1, or `all`.
    func fineTuning() throws -> TrainingOptions.FineTuning {
        guard let fineTuneLayers else { return .none }
        if fineTuneLayers == "all" { return .all }
        guard let count = Int(fineTuneLayers), count > 0 else { throw CommandError("--fine-tune-layers takes a count of layers (1 or more) or 'all', not '\(fineTuneLayers)'") }
        return .lastLayers(count)
    }

    /// The progress line of a training event.
    static func line(_ event: TrainingEvent) -> String {
        switch event {
        case .embedding(let set, let done, let total, let cached):
            return "embedding \(set) files: \(done)/\(total)" + (cached > 0 ? " (\(cached) from the cache)" : "")
        case .frozenLayers(let set, let done, let total):
            return "\(set) files through the frozen layers: \(done)/\(total)"
        case .skipped(let set, let count, let first, let error):
            return "warning: skipped \(count) unreadable \(set) file(s), first \(first): \(error)"
        case .epoch(let report):
            var line = "epoch \(report.epoch): train loss \(String(format: "%.4f", report.trainLoss))"
            if let loss = report.validationLoss, let accuracy = report.validationAccuracy {
                line += ", validation loss \(String(format: "%.4f", loss)), accuracy \(String(format: "%.3f", accuracy))"
            }
            return line
        }
    }
}
