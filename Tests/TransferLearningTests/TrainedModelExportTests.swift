import AudioNet
import Foundation
import TestSupport
import Testing

/// A trained model (`.audionet`) exported to ONNX: ONNX Runtime on the file gives the probabilities AudioNet gives.
@Suite struct TrainedModelExportTests {
    /// A saved model over `backbone`'s features with a seeded head (the export is checked, not the training).
    func savedModel(backbone: String, features: Int, hidden: Int, fineTuned: [String: [[Float]]] = [:]) throws -> String {
        var generator = SeededGenerator(seed: 3)
        let head = ClassifierHead(inputs: features, classes: 3, hidden: hidden, generator: &generator)
        var model = TrainedClassifier(backbone: backbone, backboneSHA256: nil, classes: ["a", "b", "c"], mean: generator.floats(features, in: -0.1...0.1),
                                      scale: generator.floats(features, in: 0.5...2), head: head)
        model.fineTunedLayers = fineTuned
        let path = TestSupport.temporaryDirectory().appendingPathComponent("\(backbone)\(fineTuned.isEmpty ? "" : "-fine-tuned").audionet").path
        try model.save(to: path)
        return path
    }

    /// The classifier's network written to a temporary ONNX file.
    func exported(_ classifier: ClipClassifier) throws -> String {
        let (network, clip) = try classifier.network()
        let path = TestSupport.temporaryDirectory().appendingPathComponent("model.onnx").path
        try Data(ONNXExport.serialized(network, name: "model", meanOverBatchAfter: clip)).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// YAMNet with a hidden layer: the file takes the clip's patches, averages their embeddings and gives one row,
    /// the probabilities `classify --clip` gives.
    @Test func anAudioModelsFileAveragesTheClipAsClassifyDoes() throws {
        let model = try savedModel(backbone: "yamnet", features: 1024, hidden: 8)
        let classifier = try TestSupport.requireWeights("YAMNet", Result { try ClipClassifier(contentsOf: model) })
        let file = TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path
        let pipeline = try AudioEmbedder.load("yamnet").pipeline
        let patches = try pipeline.run(file: file, outputs: [pipeline.network.inputName]).outputs[pipeline.network.inputName]!
        #expect(patches.shape.first ?? 0 > 1, "the sample should span several patches")
        guard let reference = try TestSupport.onnxRuntime(model: try exported(classifier), input: patches) else { return }
        let ours = classifier.probabilities(files: [file]).probabilities
        #expect(reference.shape == [1, 3] && TestSupport.relativeError(ours, reference) <= 1e-4, "\(ours.scalars) vs \(reference.scalars)")
    }

    /// A model whose last YAMNet layer was fine-tuned (here: its weights scaled by 1.2) exports that layer: ONNX Runtime
    /// gives AudioNet's probabilities, which differ from the same head's on the backbone's own layer.
    @Test func aFineTunedModelsFileHoldsItsFineTunedLayers() throws {
        let backbone = try TestSupport.requireWeights("YAMNet", Result { try Trainer(backbone: "yamnet").trainableBackbone() })
        let layer = try backbone.learnables(of: ["layer14/pointwise_conv"])["layer14/pointwise_conv"]!
        let tuned = try ClipClassifier(contentsOf: try savedModel(backbone: "yamnet", features: 1024, hidden: 0,
                                                                  fineTuned: ["layer14/pointwise_conv": [layer[0].map { $0 * 1.2 }, layer[1]]]))
        let plain = try ClipClassifier(contentsOf: try savedModel(backbone: "yamnet", features: 1024, hidden: 0))
        let file = TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path
        let pipeline = try AudioEmbedder.load("yamnet").pipeline
        let patches = try pipeline.run(file: file, outputs: [pipeline.network.inputName]).outputs[pipeline.network.inputName]!
        let ours = tuned.probabilities(files: [file]).probabilities
        #expect(TestSupport.relativeError(ours, plain.probabilities(files: [file]).probabilities) > 1e-3)
        guard let reference = try TestSupport.onnxRuntime(model: try exported(tuned), input: patches) else { return }
        #expect(TestSupport.relativeError(ours, reference) <= 1e-4, "\(ours.scalars) vs \(reference.scalars)")
    }

    /// MobileNetV2's pooled features and a softmax-regression head: the file takes the normalized image (NCHW).
    @Test func anImageModelsFileGivesTheImagesProbabilities() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return
        }
        let model = try savedModel(backbone: "mobilenetv2", features: 1280, hidden: 0)
        let classifier = try TestSupport.requireWeights("MobileNetV2", Result { try ClipClassifier(contentsOf: model) })
        let owl = mirror + "/../images/owl.jpg"
        let input = try ImageClassifier.load("mobilenetv2").input(for: RGBImage(path: owl))
        guard let reference = try TestSupport.onnxRuntime(model: try exported(classifier), input: input.permuted([0, 3, 1, 2])) else { return }
        let ours = classifier.probabilities(files: [owl]).probabilities
        #expect(reference.shape == [1, 3] && TestSupport.relativeError(ours, reference) <= 1e-4, "\(ours.scalars) vs \(reference.scalars)")
    }
}
