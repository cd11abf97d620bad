import AudioNet
import Foundation
import TestSupport
import Testing

/// Transfer learning on an image network's pooled features (MobileNetV2, whose TF Lite weights the mirror holds).
@Suite(.serialized) struct ImageBackboneTests {
    /// The shared images folder, next to the weights mirror.
    func sharedImages() -> String? {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return nil
        }
        return URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images").path
    }

    /// Three birds and five other pictures from the shared images, as class folders.
    func birdsAndOthers() throws -> LabeledFiles? {
        guard let images = sharedImages() else { return nil }
        let folder = TestSupport.temporaryDirectory()
        for (label, names) in [("birds", ["bird.bmp", "owl.jpg", "parrot.jpg"]),
                               ("other", ["cat.bmp", "hot_dog.jpg", "sunflower.bmp", "dragonfly.bmp", "grace_hopper.bmp"])] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(label), withIntermediateDirectories: true)
            for name in names {
                try FileManager.default.copyItem(atPath: "\(images)/\(name)", toPath: folder.appendingPathComponent("\(label)/\(name)").path)
            }
        }
        return try LabeledFiles(contentsOf: folder.path)
    }

    /// Fine-tuning the last two layers with weights for 30 epochs, nothing held out.
    func fineTuningOptions() -> TrainingOptions {
        var options = TrainingOptions()
        options.validationFraction = 0
        options.epochs = 30
        options.fineTuning = .lastLayers(2)
        return options
    }

    /// Every file's top class from `classifier` is its folder's.
    func expectLabels(_ files: LabeledFiles, by classifier: ClipClassifier) throws {
        for (file, label) in zip(files.paths, files.labels) {
            #expect(try classifier.topClasses(file: file, k: 1).first?.label == files.classes[label], "\(file)")
        }
    }

    func trainer(layer: String? = nil) throws -> Trainer {
        try TestSupport.requireWeights("MobileNetV2", Result { try Trainer(backbone: "mobilenetv2", layer: layer) })
    }

    /// The default layer is the classifier's input, pooled: the 1280 features of MobileNetV2's average pool.
    @Test func theDefaultFeaturesAreThePooledClassifierInput() throws {
        guard let cat = sharedImages().map({ $0 + "/cat.bmp" }) else { return }
        let trainer = try trainer()
        #expect(trainer.layer == "Logits/AvgPool" && trainer.featureCount == 1280)
        // A spatial layer is averaged over its 7×7 positions.
        let features = trainer.imageFeatures!
        let conv = try features.network.run(features.preprocessing.input(for: RGBImage(path: cat)), outputs: ["Conv_1"])["Conv_1"]!
        let spatial = try self.trainer(layer: "Conv_1")
        let pooled = try spatial.features(file: cat)
        let mean = (0..<1280).map { c in (0..<49).reduce(Float(0)) { $0 + conv.scalars[$1 * 1280 + c] } / 49 }
        #expect(pooled.count == 1280 && TestSupport.maxAbsDifference(pooled, mean) < 1e-5)
        #expect { try Trainer(backbone: "mobilenetv2", layer: "nope") } throws: { "\($0)".contains("no layer named 'nope'") }
        #expect { try Trainer(backbone: "yamnet", layer: "layer14") } throws: { "\($0)".contains("image backbones only") }
    }

    /// Trained on all eight pictures, the head labels each of them as its folder; saved and loaded, it keeps its layer.
    @Test func aHeadOnImageFeaturesLearnsItsFoldersAndRoundTrips() throws {
        guard let files = try birdsAndOthers() else { return }
        var options = TrainingOptions()
        options.validationFraction = 0
        options.epochs = 100
        let model = try trainer().fit(dataset: files, options: options)
        #expect(model.layer == "Logits/AvgPool" && model.metrics["trainingFiles"] == 8 && model.metrics["validationFiles"] == nil)
        let path = TestSupport.temporaryDirectory().appendingPathComponent("birds.audionet").path
        try model.save(to: path)
        let loaded = try ClipClassifier(contentsOf: path)
        #expect(loaded.model.layer == "Logits/AvgPool")
        try expectLabels(files, by: loaded)
    }

    /// An augmented image is a crop of at least `cropArea` of the image, mirrored or not, the same for the same seed.
    @Test func imageAugmentationCropsAndMirrorsRepeatably() throws {
        let image = RGBImage(width: 40, height: 30, pixels: (0..<40 * 30 * 3).map { UInt8($0 % 251) })
        let augmentation = Augmentation(copies: 1)
        var mirrored = 0
        for seed in 0..<40 {
            var a = SeededGenerator(seed: UInt64(seed)), b = SeededGenerator(seed: UInt64(seed))
            let copy = augmentation.apply(image, using: &a)
            #expect(copy.pixels == augmentation.apply(image, using: &b).pixels)
            let area = Double(copy.width * copy.height) / Double(image.width * image.height)
            #expect(area >= augmentation.cropArea * 0.9 && area <= 1, "area \(area)")
            // Each row of the copy is a run of one image row, forwards or backwards.
            let row = Array(copy.pixels[0..<copy.width * 3])
            let found = (0..<image.height).contains { y in
                (0...(image.width - copy.width)).contains { x in
                    let run = Array(image.pixels[(y * image.width + x) * 3..<(y * image.width + x + copy.width) * 3])
                    if run == row { return true }
                    let reversed = stride(from: copy.width - 1, through: 0, by: -1).flatMap { run[$0 * 3..<$0 * 3 + 3] }
                    if reversed == row { mirrored += 1; return true }
                    return false
                }
            }
            #expect(found, "seed \(seed): the first row is no row of the image")
        }
        #expect((5...35).contains(mirrored), "\(mirrored) of 40 copies mirrored")
    }

    /// MobileNetV2's last two layers with weights fine-tuned with augmented copies (random crops and flips): the layers
    /// change, the copies count as augmented examples, and the model read back labels its training images.
    @Test func fineTuningAnImageBackboneWithAugmentedCopiesLearnsItsFolders() throws {
        guard let files = try birdsAndOthers() else { return }
        var options = fineTuningOptions()
        options.augmentation = Augmentation(copies: 2)
        let trainer = try trainer()
        let model = try trainer.fit(dataset: files, options: options)
        #expect(model.fineTunedLayers.count == 2 && model.metrics["trainingFiles"] == 8 && model.metrics["augmentedExamples"] == 16)
        let path = TestSupport.temporaryDirectory().appendingPathComponent("birds-fine-tuned.audionet").path
        try model.save(to: path)
        try expectLabels(files, by: try ClipClassifier(contentsOf: path))
    }

    /// With batch statistics (PyTorch's `train()` BatchNorm), EfficientNet-Lite0's fine-tuned BatchNorm layers' running
    /// statistics move (MobileNetV2's TF Lite file has its BatchNorm folded), the model file keeps them after γ and β,
    /// and the classifier read back runs with them: it labels its training images, and scores them otherwise once the
    /// statistics are dropped from the file.
    @Test func fineTuningWithBatchStatisticsKeepsTheMovedRunningStatistics() throws {
        guard let files = try birdsAndOthers() else { return }
        var options = fineTuningOptions()
        options.batchNormStatistics = .batch
        let trainer = try TestSupport.requireWeights("EfficientNet-Lite0", Result { try Trainer(backbone: "efficientnet-lite0") })
        let model = try trainer.fit(dataset: files, options: options)
        #expect(model.recipe["batchNormStatistics"] == "batch")
        let norms = model.fineTunedLayers.filter { $0.value.count == 4 }  // γ, β, running mean, running variance
        #expect(norms.count == 2, "\(model.fineTunedLayers.mapValues(\.count))")
        let backbone = try trainer.trainableBackbone()
        for (name, arrays) in norms {
            let original = try #require(backbone.nodes.first { $0.name == name }?.layer as? BatchNorm)
            #expect(arrays[2] != original.mean && arrays[3] != original.variance, "\(name)'s statistics did not move")
        }
        let path = TestSupport.temporaryDirectory().appendingPathComponent("birds-batch-statistics.audionet").path
        try model.save(to: path)
        let loaded = try ClipClassifier(contentsOf: path)
        var withoutStatistics = model
        for (name, arrays) in norms { withoutStatistics.fineTunedLayers[name] = Array(arrays.prefix(2)) }
        let otherPath = TestSupport.temporaryDirectory().appendingPathComponent("birds-without-statistics.audionet").path
        try withoutStatistics.save(to: otherPath)
        let other = try ClipClassifier(contentsOf: otherPath)
        try expectLabels(files, by: loaded)
        for file in files.paths {
            #expect(try other.topClasses(file: file, k: 1).first?.score != loaded.topClasses(file: file, k: 1).first?.score, "\(file)")
        }
    }
}
