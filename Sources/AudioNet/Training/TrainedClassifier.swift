import Foundation
import Formats
import Models
import NetCore

/// A classifier trained on a network's features: the backbone by name (and, for an image network, the layer read)
/// and the SHA-256 of its weights, the backbone layers fine-tuned (none when it stayed frozen), the standardisation
/// of the embeddings, the head, the class names, and how it was trained. Saved as one `.audionet` file: safetensors
/// holding the tensors, with the description as versioned JSON in its metadata.
public struct TrainedClassifier: Sendable {
    /// The model file's format name and version, in its metadata (version 2 added fine-tuned backbone layers).
    public static let format = "audionet-classifier", version = 2

    /// The embedding network (`yamnet`, `vggish`, `openl3-…`) and the SHA-256 of the weight file it ran with.
    public let backbone: String
    public let backboneSHA256: String?
    /// The layer an image backbone is read at (nil: audio).
    public var layer: String?
    /// The learnables of the backbone layers that were fine-tuned, by node name (each layer's arrays in its
    /// ``Backpropagating/learnables`` order, a BatchNorm's running mean and variance after them when batches moved
    /// them); empty when the backbone stayed frozen.
    public var fineTunedLayers: [String: [[Float]]] = [:]
    public let classes: [String]
    /// Standardisation of each embedding feature: `(x − mean) · scale`, from the training set.
    public let mean: [Float]
    public let scale: [Float]
    public let head: ClassifierHead
    /// The training options and results (epochs run, best epoch, losses and accuracies), for the record.
    public var recipe: [String: String]
    public var metrics: [String: Double]

    public init(backbone: String, backboneSHA256: String?, classes: [String], mean: [Float], scale: [Float], head: ClassifierHead,
                recipe: [String: String] = [:], metrics: [String: Double] = [:]) {
        precondition(classes.count == head.classes && mean.count == head.inputs && scale.count == head.inputs)
        self.backbone = backbone
        self.backboneSHA256 = backboneSHA256
        self.classes = classes
        self.mean = mean
        self.scale = scale
        self.head = head
        self.recipe = recipe
        self.metrics = metrics
    }

    /// Class probabilities `[N, classes]` of clip embeddings `[N, features]`.
    public func probabilities(embeddings: Tensor) -> Tensor {
        let features = head.inputs
        var standardized = embeddings
        for i in standardized.scalars.indices { standardized.scalars[i] = (standardized.scalars[i] - mean[i % features]) * scale[i % features] }
        var logits = head.logits(standardized)
        let classes = head.classes
        for row in 0..<(logits.count / classes) {
            let range = row * classes..<(row + 1) * classes
            let peak = logits.scalars[range].max() ?? 0
            var sum: Float = 0
            for i in range { logits.scalars[i] = exp(logits.scalars[i] - peak); sum += logits.scalars[i] }
            for i in range { logits.scalars[i] /= sum }
        }
        return logits
    }

    /// Records the accuracy and macro-F1 on held-out files' features in ``metrics``.
    mutating func measure(on features: Tensor, labels: [Int]) {
        let evaluation = Evaluation(predicted: Evaluation.argmax(probabilities(embeddings: features)), truth: labels, labels: classes)
        metrics["validationAccuracy"] = evaluation.accuracy
        metrics["validationMacroF1"] = evaluation.macroF1
        metrics["validationFiles"] = Double(labels.count)
    }

    struct Description: Codable {
        var format: String, version: Int, backbone: String, backboneSHA256: String?, layer: String?, classes: [String], hidden: Int
        var recipe: [String: String], metrics: [String: Double]
        /// The fine-tuned backbone nodes, whose arrays are the tensors `backbone.NODE.INDEX`.
        var fineTuned: [String]?
    }

    /// Writes the model to `path`.
    public func save(to path: String) throws {
        let description = Description(format: Self.format, version: Self.version, backbone: backbone, backboneSHA256: backboneSHA256,
                                      layer: layer, classes: classes, hidden: head.layers.count > 1 ? head.layers[0].outputFeatures : 0,
                                      recipe: recipe, metrics: metrics, fineTuned: fineTunedLayers.isEmpty ? nil : fineTunedLayers.keys.sorted())
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        var tensors = ["standardization.mean": Tensor(shape: [mean.count], scalars: mean),
                       "standardization.scale": Tensor(shape: [scale.count], scalars: scale)]
        for (index, layer) in head.layers.enumerated() {
            tensors["head.\(index).weight"] = Tensor(shape: [layer.inputFeatures, layer.outputFeatures], scalars: layer.weights)
            tensors["head.\(index).bias"] = Tensor(shape: [layer.outputFeatures], scalars: layer.bias)
        }
        for (node, arrays) in fineTunedLayers {
            for (index, array) in arrays.enumerated() { tensors["backbone.\(node).\(index)"] = Tensor(shape: [array.count], scalars: array) }
        }
        try Safetensors.write(tensors, metadata: ["audionet": json], path: path)
    }

    /// Reads a model written by ``save(to:)``.
    public init(contentsOf path: String) throws {
        let tensors: [String: Tensor], metadata: [String: String]
        do {
            (tensors, metadata) = try Safetensors.read(path: path)
        } catch let error as ModelFileError {
            throw TrainedClassifierError.notAModel(path, error.description)
        }
        guard let json = metadata["audionet"],
              let description = try? JSONDecoder().decode(Description.self, from: Data(json.utf8)), description.format == Self.format else {
            throw TrainedClassifierError.notAModel(path, "no AudioNet description in its metadata")
        }
        guard description.version <= Self.version else { throw TrainedClassifierError.newerVersion(path, description.version) }
        var layers: [Dense] = []
        while let weight = tensors["head.\(layers.count).weight"], let bias = tensors["head.\(layers.count).bias"] {
            guard weight.shape.count == 2, bias.shape == [weight.shape[1]], layers.last.map({ $0.outputFeatures == weight.shape[0] }) ?? true else {
                throw TrainedClassifierError.inconsistent(path, "head layer \(layers.count) has shapes \(weight.shape) and \(bias.shape)")
            }
            layers.append(Dense(inputFeatures: weight.shape[0], outputFeatures: weight.shape[1], weights: weight.scalars, bias: bias.scalars))
        }
        guard let first = layers.first, let mean = tensors["standardization.mean"], let scale = tensors["standardization.scale"],
              mean.shape == [first.inputFeatures], scale.shape == mean.shape, layers.last!.outputFeatures == description.classes.count else {
            throw TrainedClassifierError.inconsistent(path, "its head, standardisation and \(description.classes.count) classes do not fit together")
        }
        self.init(backbone: description.backbone, backboneSHA256: description.backboneSHA256, classes: description.classes,
                  mean: mean.scalars, scale: scale.scalars, head: ClassifierHead(layers: layers),
                  recipe: description.recipe, metrics: description.metrics)
        layer = description.layer
        for node in description.fineTuned ?? [] {
            var arrays: [[Float]] = []
            while let array = tensors["backbone.\(node).\(arrays.count)"] { arrays.append(array.scalars) }
            guard !arrays.isEmpty else { throw TrainedClassifierError.inconsistent(path, "it lists fine-tuned layer '\(node)' without its tensors") }
            fineTunedLayers[node] = arrays
        }
    }
}

/// Why a model file cannot be used; one line each.
public enum TrainedClassifierError: Error, CustomStringConvertible, Equatable {
    case notAModel(String, String)
    case newerVersion(String, Int)
    case inconsistent(String, String)
    case backboneChanged(model: String, backbone: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .notAModel(let path, let why): return "'\(path)' is not an AudioNet classifier (.audionet written by `audionet train`): \(why)"
        case .newerVersion(let path, let version): return "'\(path)' is model format version \(version); this AudioNet reads up to \(TrainedClassifier.version)"
        case .inconsistent(let path, let why): return "'\(path)' is inconsistent: \(why)"
        case .backboneChanged(let model, let backbone, let expected, let actual):
            return "'\(model)' was trained on \(backbone) weights with SHA-256 \(expected.prefix(12))…, but the weights found now hash to \(actual.prefix(12))…; retrain it or give the original weights with --weights"
        }
    }
}
