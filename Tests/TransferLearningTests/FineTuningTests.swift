import AudioNet
import Formats
import Foundation
import TestSupport
import Testing

/// `Trainer.fit` with ``TrainingOptions/fineTuning``: YAMNet's last blocks learn with the head on FSDD.
@Suite(.serialized) struct FineTuningTests {
    /// Recordings `recordings` of digits 0–4 by `speakers`.
    func files(speakers: [String], recordings: Range<Int>) -> LabeledFiles? {
        guard let fsdd = fsddFolder() else { return nil }
        var paths: [String] = [], labels: [Int] = []
        for digit in 0..<5 {
            for speaker in speakers {
                for recording in recordings {
                    paths.append("\(fsdd)/\(digit)/\(digit)_\(speaker)_\(recording).wav")
                    labels.append(digit)
                }
            }
        }
        return LabeledFiles(classes: (0..<5).map(String.init), paths: paths, labels: labels)
    }

    func trainer() throws -> Trainer { try TestSupport.requireWeights("YAMNet", Result { try Trainer(backbone: "yamnet") }) }

    /// The last four weight layers (YAMNet's last two depthwise-separable blocks) change and no other; the model file
    /// keeps them, and the classifier read from it predicts the held-out files as the training run measured.
    @Test func theLastLayersLearnAndTheModelFileRestoresThem() throws {
        guard let train = files(speakers: ["jackson", "theo"], recordings: 0..<8),
              let held = files(speakers: ["jackson", "theo"], recordings: 40..<44) else { return }
        let trainer = try trainer()
        var options = TrainingOptions()
        options.epochs = 4
        options.fineTuning = .lastLayers(4)
        var frozenLayers: [String] = [], embedded = 0
        let model = try trainer.fit(dataset: train, validation: held, options: options) { event in
            switch event {
            case .frozenLayers(let set, let done, let total): frozenLayers.append("\(set) \(done)/\(total)")
            case .embedding: embedded += 1
            case .skipped, .epoch: break
            }
        }
        // The files go through the frozen layers, once; none is reported as embedded.
        #expect(frozenLayers == ["training 80/80", "validation 40/40"] && embedded == 0, "\(frozenLayers), \(embedded) embedding events")
        let blocks = ["layer13/depthwise_conv", "layer13/pointwise_conv", "layer14/depthwise_conv", "layer14/pointwise_conv"]
        #expect(model.fineTunedLayers.keys.sorted() == blocks)
        let original = try Trainer(backbone: "yamnet").trainableBackbone().learnables(of: blocks)
        for name in blocks {
            #expect(model.fineTunedLayers[name]!.map(\.count) == original[name]!.map(\.count) && model.fineTunedLayers[name]! != original[name]!,
                    "\(name) did not learn")
        }
        #expect(model.recipe["fineTuneLayers"] == "4" && model.recipe["backboneLearningRate"] == "0.0001")

        let path = TestSupport.temporaryDirectory().appendingPathComponent("fine-tuned.audionet").path
        try model.save(to: path)
        let classifier = try ClipClassifier(contentsOf: path)
        #expect(classifier.model.fineTunedLayers == model.fineTunedLayers)
        let predicted = Evaluation.argmax(classifier.probabilities(files: held.paths).probabilities)
        let accuracy = Evaluation(predicted: predicted, truth: held.labels, labels: held.classes).accuracy
        #expect(accuracy == model.metrics["validationAccuracy"], "read back: \(accuracy), trained: \(model.metrics["validationAccuracy"] ?? -1)")
        // The head on the backbone's own layers predicts otherwise: the file's layers are the ones in use.
        var frozenBackbone = model
        frozenBackbone.fineTunedLayers = [:]
        let other = TestSupport.temporaryDirectory().appendingPathComponent("unchanged-backbone.audionet").path
        try frozenBackbone.save(to: other)
        #expect(try ClipClassifier(contentsOf: other).probabilities(files: held.paths).probabilities
                != classifier.probabilities(files: held.paths).probabilities)
    }

    /// Fine-tuning YAMNet's last two blocks beats the frozen backbone's head on average over the speaker folds; both
    /// are printed for every fold.
    @Test func fineTuningBeatsTheFrozenBackboneOnAverageOverTheSpeakerFolds() throws {
        let folds = try TestSupport.requireWeights("YAMNet and FSDD", speakerFolds)
        for (index, fold) in folds.folds.enumerated() {
            print("FSDD, \(fold.speaker) held out: frozen backbone \(String(format: "%.3f", folds.frozen[index])), fine-tuned \(String(format: "%.3f", folds.fineTuned[index]))")
        }
        let (frozenMean, fineTunedMean) = (folds.frozen.reduce(0, +) / 5, folds.fineTuned.reduce(0, +) / 5)
        print("FSDD by speaker, mean of five: frozen backbone \(String(format: "%.3f", frozenMean)), fine-tuned \(String(format: "%.3f", fineTunedMean))")
        #expect(fineTunedMean > frozenMean, "fine-tuned \(folds.fineTuned), frozen \(folds.frozen)")
    }

    /// Tests/Reference/fine_tuning_reference.py trains the same blocks and head in PyTorch with the same recipe, from the
    /// same start (the head's initial weights and each epoch's order that the seed gives, drawn here as `fineTune`
    /// draws them) but from its own front end and the TF Lite file's weights: its mean accuracy over the five folds is
    /// AudioNet's within 2 points.
    @Test func aPyTorchLoopWithTheSameRecipeAndStartReachesTheSameAccuracy() throws {
        let folds = try TestSupport.requireWeights("YAMNet and FSDD", speakerFolds)
        guard FileManager.default.isExecutableFile(atPath: TestSupport.referencePython) else {
            Issue.record("\(TestSupport.referencePython) is missing, so the PyTorch twin cannot run: run `make venv`")
            return
        }
        let options = folds.options, trainingCount = folds.folds[0].train.paths.count
        #expect(folds.folds.allSatisfy { $0.train.paths.count == trainingCount })
        var generator = SplitMix64(seed: options.seed)
        let head = ClassifierHead(inputs: 1024, classes: 10, hidden: options.hidden, generator: &generator)
        var order = Array(0..<trainingCount), orders: [Float] = []
        for _ in 0..<options.epochs {
            order.shuffle(using: &generator)
            orders += order.map(Float.init)
        }
        let folder = TestSupport.temporaryDirectory()
        try NPY.write(NPYArray(Tensor(shape: [1024, 10], scalars: head.parameters[0])), path: folder.appendingPathComponent("head_weight.npy").path)
        try NPY.write(NPYArray(Tensor(shape: [10], scalars: head.parameters[1])), path: folder.appendingPathComponent("head_bias.npy").path)
        try NPY.write(NPYArray(Tensor(shape: [options.epochs, trainingCount], scalars: orders)), path: folder.appendingPathComponent("order.npy").path)
        func part(_ files: LabeledFiles) -> [String: Any] { ["paths": files.paths, "labels": files.labels] }
        let manifest: [String: Any] = [
            "tflite": ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"]! + "/yamnet/yamnet.tflite",
            "recipe": ["batchSize": options.batchSize, "epochs": options.epochs, "learningRate": options.learningRate,
                       "backboneLearningRate": options.backboneLearningRate!, "weightDecay": options.weightDecay, "patience": options.patience],
            "folds": folds.folds.map { ["name": $0.speaker, "train": part($0.train), "validation": part($0.validation), "test": part($0.test)] },
        ]
        try JSONSerialization.data(withJSONObject: manifest).write(to: folder.appendingPathComponent("manifest.json"))
        let result = try TestSupport.run([TestSupport.repositoryRoot.appendingPathComponent("Tests/Reference/fine_tuning_reference.py").path, folder.path],
                                         program: URL(fileURLWithPath: TestSupport.referencePython))
        try #require(result.status == 0, "the PyTorch twin failed: \(result.stderr.split(separator: "\n").suffix(3).joined(separator: " | "))")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("results.json"))) as? [[String: Double]])
        let reference = results.map { $0["accuracy"]! }
        for (index, fold) in folds.folds.enumerated() {
            print("FSDD, \(fold.speaker) held out, fine-tuned: AudioNet \(String(format: "%.3f", folds.fineTuned[index])) (best epoch \(folds.bestEpochs[index])), PyTorch \(String(format: "%.3f", reference[index])) (best epoch \(Int(results[index]["bestEpoch"]!)))")
        }
        let (ours, theirs) = (folds.fineTuned.reduce(0, +) / 5, reference.reduce(0, +) / 5)
        print("FSDD by speaker, fine-tuned, mean of five: AudioNet \(String(format: "%.3f", ours)), PyTorch \(String(format: "%.3f", theirs))")
        #expect(abs(ours - theirs) <= 0.02, "AudioNet \(folds.fineTuned), PyTorch \(reference)")
    }

    @Test func askingForMoreLayersThanTheBackboneHasIsAnErrorNamingTheCount() throws {
        guard let train = files(speakers: ["jackson"], recordings: 0..<2) else { return }
        var options = TrainingOptions()
        options.fineTuning = .lastLayers(28)
        #expect { try trainer().fit(dataset: train, options: options) } throws: { "\($0)".contains("yamnet has 27 layers with weights below the head") }
    }
}

/// One fold of FSDD split by speaker: one speaker's 500 files are the test set; of the other four speakers' files,
/// recordings 40–49 are the validation set (early stopping) and 0–39 the training set.
struct SpeakerFold: Sendable {
    let speaker: String
    let train: LabeledFiles, validation: LabeledFiles, test: LabeledFiles
}

/// AudioNet's test accuracy on each fold with the frozen backbone and with YAMNet's last two blocks fine-tuned
/// (`--fine-tune-layers 4 --backbone-learning-rate 0.001`, the shipped recipe and seed otherwise): computed once.
struct SpeakerFoldAccuracies: Sendable {
    let folds: [SpeakerFold]
    let options: TrainingOptions
    let frozen: [Double], fineTuned: [Double], bestEpochs: [Int]
}

let speakerFolds: Result<SpeakerFoldAccuracies, Error> = Result {
    guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else { throw DatasetError.notFound("$AUDIONET_WEIGHTS_MIRROR") }
    let all = try LabeledFiles(contentsOf: URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path)
    let names = all.paths.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent.split(separator: "_") }
    let trainer = try Trainer(backbone: "yamnet"), cache = EmbeddingCache(directory: TestSupport.temporaryDirectory().path)
    var options = TrainingOptions()
    options.fineTuning = .lastLayers(4)
    options.backboneLearningRate = 1e-3
    var folds: [SpeakerFold] = [], frozen: [Double] = [], fineTuned: [Double] = [], bestEpochs: [Int] = []
    for speaker in ["george", "jackson", "lucas", "nicolas", "theo"] {
        let indices = all.paths.indices
        let fold = SpeakerFold(speaker: speaker,
                               train: all.subset(indices.filter { names[$0][1] != speaker && Int(names[$0][2])! < 40 }),
                               validation: all.subset(indices.filter { names[$0][1] != speaker && Int(names[$0][2])! >= 40 }),
                               test: all.subset(indices.filter { names[$0][1] == speaker }))
        folds.append(fold)
        for fineTuning in [TrainingOptions.FineTuning.none, .lastLayers(4)] {
            var recipe = options
            recipe.fineTuning = fineTuning
            if fineTuning == .none { recipe.backboneLearningRate = nil }
            let model = try trainer.fit(dataset: fold.train, validation: fold.validation, options: recipe, cache: cache)
            let path = TestSupport.temporaryDirectory().appendingPathComponent("\(speaker)-\(fineTuning).audionet").path
            try model.save(to: path)
            let predicted = Evaluation.argmax(try ClipClassifier(contentsOf: path).probabilities(files: fold.test.paths, cache: cache).probabilities)
            let accuracy = Evaluation(predicted: predicted, truth: fold.test.labels, labels: fold.test.classes).accuracy
            if fineTuning == .none {
                frozen.append(accuracy)
            } else {
                fineTuned.append(accuracy)
                bestEpochs.append(Int(model.metrics["bestEpoch"]!))
            }
        }
    }
    return SpeakerFoldAccuracies(folds: folds, options: options, frozen: frozen, fineTuned: fineTuned, bestEpochs: bestEpochs)
}

