import AudioNet
import Foundation
import TestSupport
import Testing

/// `Trainer.fit(dataset:)`: a folder in, a model out; the embedding cache; augmentation; unreadable files.
@Suite(.serialized) struct TrainInOneCallTests {
    /// Digits 0–2 of one FSDD speaker, ten recordings each, plus a file in class 1 that is not audio.
    func smallDataset() throws -> (files: LabeledFiles, broken: String)? {
        guard let fsdd = fsddFolder() else { return nil }
        let folder = TestSupport.temporaryDirectory()
        for digit in 0..<3 {
            let classFolder = folder.appendingPathComponent("\(digit)")
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            for recording in 0..<10 {
                let name = "\(digit)_jackson_\(recording).wav"
                try FileManager.default.copyItem(atPath: "\(fsdd)/\(digit)/\(name)", toPath: classFolder.appendingPathComponent(name).path)
            }
        }
        let broken = folder.appendingPathComponent("1/broken.wav").path
        try Data("not a wave file".utf8).write(to: URL(fileURLWithPath: broken))
        return (try LabeledFiles(contentsOf: folder.path), broken)
    }

    func trainer() throws -> Trainer { try TestSupport.requireWeights("YAMNet", Result { try Trainer(backbone: "yamnet") }) }

    @Test func aFolderTrainsInOneCallSkippingTheUnreadableFile() throws {
        guard let (files, broken) = try smallDataset() else { return }
        let trainer = try trainer()
        var options = TrainingOptions()
        options.epochs = 30
        var skipped: [(String, Int, String)] = [], epochs = 0
        let model = try trainer.fit(dataset: files, options: options) { event in
            switch event {
            case .skipped(let set, let count, let first, _): skipped.append((set, count, first))
            case .epoch: epochs += 1
            case .embedding, .frozenLayers: break
            }
        }
        #expect(skipped.count == 1 && skipped.first?.1 == 1 && skipped.first?.2 == broken, "\(skipped)")
        #expect(model.classes == ["0", "1", "2"] && model.backbone == "yamnet" && model.backboneSHA256 == trainer.backboneSHA256)
        #expect(model.metrics["trainingFiles"]! + model.metrics["validationFiles"]! == 30)
        #expect(epochs > 0 && model.recipe["validationFraction"] == "0.2")
        #expect { try trainer.fit(dataset: files, options: options, strict: true) } throws: { "\($0)".contains("broken.wav") }
    }

    @Test func validationClassesMustMatchTheTrainingClasses() throws {
        guard let (files, _) = try smallDataset() else { return }
        let other = LabeledFiles(classes: ["0", "1"], paths: Array(files.paths.prefix(2)), labels: [0, 1])
        #expect { try trainer().fit(dataset: files, validation: other) } throws: { "\($0)".contains("validation classes (0, 1) differ") }
    }

    /// A second run reads every embedding from the cache and trains the same head; a damaged entry is computed again.
    @Test func aSecondRunTakesEveryEmbeddingFromTheCache() throws {
        guard let (files, _) = try smallDataset() else { return }
        let trainer = try trainer()
        let cache = EmbeddingCache(directory: TestSupport.temporaryDirectory().path)
        var options = TrainingOptions()
        options.epochs = 10
        func run() throws -> (TrainedClassifier, cached: Int) {
            var cached = 0
            let model = try trainer.fit(dataset: files, options: options, cache: cache) { event in
                if case .embedding(_, let done, let total, let count) = event, done == total { cached += count }
            }
            return (model, cached)
        }
        let (first, none) = try run()
        let (second, all) = try run()
        #expect(none == 0 && all == 30)
        #expect(second.head.parameters == first.head.parameters)
        let entries = try FileManager.default.subpathsOfDirectory(atPath: cache.directory).filter { $0.hasSuffix(".f32") }.sorted()
        #expect(entries.count == 30 && entries.allSatisfy { $0.hasPrefix("yamnet-") })
        let damaged = (cache.directory as NSString).appendingPathComponent(entries[0])
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: damaged))
        // A FIFO in an entry's place is passed over at once, not read (it would block).
        let planted = (cache.directory as NSString).appendingPathComponent(entries[1])
        try FileManager.default.removeItem(atPath: planted)
        #expect(mkfifo(planted, 0o600) == 0)
        let (third, most) = try run()
        #expect(most == 28 && third.head.parameters == first.head.parameters)
        #expect(try FileManager.default.attributesOfItem(atPath: damaged)[.size] as? Int == 1024 * 4)
    }

    /// With no gain range and no shift, the change is the noise alone, at the set SNR; one seed gives one copy.
    @Test func augmentationAddsNoiseAtTheSetSNRAndRepeatsWithItsSeed() throws {
        let samples = TestSupport.sine(frequency: 440, seconds: 1, sampleRate: 16000)
        var quiet = Augmentation(copies: 1)
        (quiet.gainDecibels, quiet.shiftSeconds, quiet.noiseSNR) = (0, 0, 10)
        var generator = SeededGenerator(seed: 1)
        let noisy = quiet.apply(samples, sampleRate: 16000, using: &generator)
        let noise = zip(noisy, samples).map { $0 - $1 }
        let snr = 20 * log10(TestSupport.rms(samples) / TestSupport.rms(noise))
        #expect(abs(snr - 10) < 0.2, "SNR \(snr) dB")

        let augmentation = Augmentation(copies: 1)
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let copy = augmentation.apply(samples, sampleRate: 16000, using: &a)
        #expect(copy == augmentation.apply(samples, sampleRate: 16000, using: &b))
        #expect(copy != augmentation.apply(samples, sampleRate: 16000, using: &c))
        #expect(abs(copy.count - samples.count) <= 1600, "a shift of at most 0.1 s")
    }

    @Test func augmentedCopiesJoinTheTrainingSet() throws {
        guard let (files, _) = try smallDataset() else { return }
        var options = TrainingOptions()
        options.epochs = 5
        options.augmentation = Augmentation(copies: 2)
        let model = try trainer().fit(dataset: files, options: options)
        #expect(model.metrics["augmentedExamples"] == 2 * model.metrics["trainingFiles"]!)
        #expect(model.recipe["augmentCopies"] == "2" && model.recipe["augmentNoiseSNR"] == "20.0")
    }
}
