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
        for (file, label) in zip(files.paths, files.labels) {
            #expect(try loaded.topClasses(file: file, k: 1).first?.label == files.classes[label], "\(file)")
        }
    }
}
