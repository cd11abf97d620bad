import ArgumentParser
import AudioNet
import Foundation

/// `audionet train DATASET --backbone yamnet --output MODEL.audionet`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier for your own labels on a frozen audio network's embeddings.",
        discussion: """
        DATASET is a folder of class folders (the folder name is the label) or a CSV of path,label rows. Each file \
        becomes one clip embedding (the mean of the backbone's embeddings); a head (softmax regression, or one hidden \
        ReLU layer with --hidden N) is trained on them with Adam, stopping when the validation loss has not improved \
        for --patience epochs and keeping the best epoch. One line per epoch goes to stderr. Files that cannot be \
        read are skipped with a warning (an error with --strict).
        """
    )

    @Argument(help: "Folder of class folders, or a path,label CSV.")
    var dataset: String

    @Option(help: ArgumentHelp("Embedding network.", discussion: Networks.audioEmbedding.joined(separator: ", ")))
    var backbone: String = YAMNet.descriptor.name

    @Option(help: "The model file to write (.audionet).")
    var output: String

    @Option(name: .customLong("validation-split"), help: "Share of each class held out to stop training early.")
    var validationSplit: Double = 0.2

    @Option(help: "A separate validation dataset (instead of --validation-split).")
    var validation: String?

    @Option(help: "Hidden ReLU units (0: softmax regression).")
    var hidden: Int = 0

    @Option(help: "Most epochs.") var epochs: Int = 200
    @Option(name: .customLong("batch-size"), help: "Examples per Adam step.") var batchSize: Int = 32
    @Option(name: .customLong("learning-rate"), help: "Adam's learning rate.") var learningRate: Float = 1e-3
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "Epochs without a lower validation loss before stopping.") var patience: Int = 20
    @Option(help: "Seed of the split, the initial weights and the shuffles.") var seed: UInt64 = 0
    @Flag(name: .customLong("no-class-weights"), help: "Do not weight classes by their rarity.") var noClassWeights = false
    @Flag(help: "Stop at the first file that cannot be read.") var strict = false

    @Option(help: "Backbone weights file (default: looked up in the weight store).")
    var weights: String?

    func validate() throws {
        guard hidden >= 0, epochs > 0, batchSize > 0, patience > 0 else { throw CommandError("--hidden, --epochs, --batch-size and --patience must be positive") }
        guard learningRate > 0, learningRate.isFinite, weightDecay >= 0 else { throw CommandError("--learning-rate must be positive and --weight-decay not negative") }
        guard validation != nil || (0..<1).contains(validationSplit) else { throw CommandError("--validation-split must be within [0, 1)") }
        var isFolder: ObjCBool = false
        // Refused before the files are embedded, not after.
        guard !(FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw CommandError("cannot write '\(output)': it is a directory")
        }
    }

    func run() throws {
        try OutputFile.checkDistinct(outputs: [output], inputs: [dataset, validation, weights].compactMap { $0 })
        let files = try LabeledFiles(contentsOf: dataset)
        let trainer = try Trainer(backbone: backbone, weightsPath: weights)
        var trainIndices: [Int], validationSet: (files: LabeledFiles, indices: [Int])?
        if let validation {
            let held = try LabeledFiles(contentsOf: validation)
            guard held.classes == files.classes else { throw CommandError("the validation classes differ from the training classes") }
            trainIndices = Array(files.paths.indices)
            validationSet = (held, Array(held.paths.indices))
        } else {
            let split = files.split(validationFraction: validationSplit, seed: seed)
            trainIndices = split.train
            validationSet = split.validation.isEmpty ? nil : (files, split.validation)
        }
        let train = try embed(files.subset(trainIndices), with: trainer, what: "training")
        let held = try validationSet.map { try embed($0.files.subset($0.indices), with: trainer, what: "validation") }
        var options = TrainingOptions()
        options.hidden = hidden
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.weightDecay = weightDecay
        options.patience = patience
        options.balanceClasses = !noClassWeights
        options.seed = seed
        let result = Trainer.fit(train: train, validation: held, classes: files.classes.count, options: options) { report in
            var line = "epoch \(report.epoch): train loss \(String(format: "%.4f", report.trainLoss))"
            if let loss = report.validationLoss, let accuracy = report.validationAccuracy {
                line += ", validation loss \(String(format: "%.4f", loss)), accuracy \(String(format: "%.3f", accuracy))"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        var model = TrainedClassifier(backbone: backbone, backboneSHA256: trainer.backboneSHA256, classes: files.classes,
                                      mean: result.mean, scale: result.scale, head: result.head)
        model.recipe = options.record
        model.metrics["bestEpoch"] = Double(result.bestEpoch)
        model.metrics["trainingFiles"] = Double(train.labels.count)
        if let held {
            let evaluation = Evaluation(predicted: Evaluation.argmax(model.probabilities(embeddings: held.embeddings)), truth: held.labels,
                                        labels: files.classes)
            model.metrics["validationAccuracy"] = evaluation.accuracy
            model.metrics["validationMacroF1"] = evaluation.macroF1
            model.metrics["validationFiles"] = Double(held.labels.count)
        }
        try model.save(to: output)
        let validationText = model.metrics["validationAccuracy"].map { ", validation accuracy \(String(format: "%.3f", $0)) on \(held!.labels.count) files" } ?? ""
        print("\(output): \(files.classes.count) classes, \(train.labels.count) training files, best epoch \(result.bestEpoch)\(validationText)")
    }

    /// Clip embeddings of `files` with a progress count on stderr; unreadable files are skipped with a warning, or fail with --strict.
    func embed(_ files: LabeledFiles, with trainer: Trainer, what: String) throws -> (embeddings: Tensor, labels: [Int]) {
        let total = files.paths.count
        let (embeddings, kept, failures) = trainer.embed(files.paths) { done in
            if done == total || done % 100 == 0 { FileHandle.standardError.write(Data("embedding \(what) files: \(done)/\(total)\n".utf8)) }
        }
        if let first = failures.first {
            if strict { throw CommandError("\(first.path): \(first.error)") }
            FileHandle.standardError.write(Data("warning: skipped \(failures.count) unreadable \(what) file(s), first \(first.path): \(first.error)\n".utf8))
        }
        guard !kept.isEmpty else { throw CommandError("no \(what) file could be read") }
        return (embeddings, kept.map { files.labels[$0] })
    }
}
