import AudioNet
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
        let model = try trainer.fit(dataset: train, validation: held, options: options)
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

    /// FSDD split by speaker (train on four, test on the fifth, each in turn), the shipped recipe and seed: fine-tuning
    /// YAMNet's last two blocks (`--fine-tune-layers 4 --backbone-learning-rate 0.001`) beats the frozen backbone's head
    /// on average; both are printed for every fold.
    @Test func fineTuningBeatsTheFrozenBackboneOnAverageOverTheSpeakerFolds() throws {
        guard let fsdd = fsddFolder() else { return }
        let all = try LabeledFiles(contentsOf: fsdd)
        let speakers = all.paths.map { String(URL(fileURLWithPath: $0).lastPathComponent.split(separator: "_")[1]) }
        let trainer = try trainer(), cache = EmbeddingCache(directory: TestSupport.temporaryDirectory().path)
        var frozen: [Double] = [], fineTuned: [Double] = []
        for speaker in ["george", "jackson", "lucas", "nicolas", "theo"] {
            let test = all.subset(all.paths.indices.filter { speakers[$0] == speaker })
            let train = all.subset(all.paths.indices.filter { speakers[$0] != speaker })
            #expect(test.paths.count == 500 && train.paths.count == 2000)
            for fineTuning in [TrainingOptions.FineTuning.none, .lastLayers(4)] {
                var options = TrainingOptions()
                options.fineTuning = fineTuning
                options.backboneLearningRate = fineTuning == .none ? nil : 1e-3
                let path = TestSupport.temporaryDirectory().appendingPathComponent("\(speaker)-\(fineTuning).audionet").path
                try trainer.fit(dataset: train, options: options, cache: cache).save(to: path)
                let predicted = Evaluation.argmax(try ClipClassifier(contentsOf: path).probabilities(files: test.paths, cache: cache).probabilities)
                let accuracy = Evaluation(predicted: predicted, truth: test.labels, labels: test.classes).accuracy
                if fineTuning == .none { frozen.append(accuracy) } else { fineTuned.append(accuracy) }
            }
            print("FSDD, \(speaker) held out: frozen backbone \(String(format: "%.3f", frozen.last!)), fine-tuned \(String(format: "%.3f", fineTuned.last!))")
        }
        let (frozenMean, fineTunedMean) = (frozen.reduce(0, +) / 5, fineTuned.reduce(0, +) / 5)
        print("FSDD by speaker, mean of five: frozen backbone \(String(format: "%.3f", frozenMean)), fine-tuned \(String(format: "%.3f", fineTunedMean))")
        #expect(fineTunedMean > frozenMean, "fine-tuned \(fineTuned), frozen \(frozen)")
    }

    @Test func askingForMoreLayersThanTheBackboneHasIsAnErrorNamingTheCount() throws {
        guard let train = files(speakers: ["jackson"], recordings: 0..<2) else { return }
        var options = TrainingOptions()
        options.fineTuning = .lastLayers(28)
        #expect { try trainer().fit(dataset: train, options: options) } throws: { "\($0)".contains("yamnet has 27 layers with weights below the head") }
    }
}
