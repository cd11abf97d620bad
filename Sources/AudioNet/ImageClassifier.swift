import Formats
import ImageIO
import Models
import NetCore

/// ImageNet classification on the shared engine (MATLAB's `classify` with the pretrained image networks).
public final class ImageClassifier: Sendable {
    public let name: String
    /// The network, BatchNorm and activations folded.
    public let network: Network
    public let preprocessing: ImagePreprocessing
    /// Class names, one per network output.
    public let labels: [String]
    /// Whether the network ends in a softmax already (else scores are the softmax of its logits).
    let outputsProbabilities: Bool

    init(name: String, network: Network, preprocessing: ImagePreprocessing, labels: [String], outputsProbabilities: Bool,
         precision: Precision) {
        self.name = name
        self.network = network.prepared(for: precision)
        self.preprocessing = preprocessing
        self.labels = labels
        self.outputsProbabilities = outputsProbabilities
    }

    /// The image classifiers AudioNet builds, in catalog order.
    public static var available: [String] { Networks.built.filter { $0.imageClassifier != nil }.map(\.name) }

    /// Loads `name` with its weights from `store` (or `weightsPath`), run at `precision`.
    public static func load(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil,
                            precision: Precision = .float32) throws -> ImageClassifier {
        let descriptor = try Networks.buildable(name)
        guard let output = descriptor.imageClassifier, let load = descriptor.load else {
            throw AudioNetError.notImplemented(name, available: available)
        }
        let network = try load(name, store, weightsPath)
        let labels = try String(contentsOfFile: try store.locate(output.labels), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init).dropFirst(output.skippedLabels)
        guard let classes = network.shapes[network.outputName]?.last, labels.count == classes else {
            throw NetworkError.invalidWeights("\(name) has \(network.shapes[network.outputName] ?? []) outputs for \(labels.count) labels")
        }
        return ImageClassifier(name: name, network: network, preprocessing: output.preprocessing, labels: Array(labels),
                               outputsProbabilities: output.outputsProbabilities, precision: precision)
    }

    /// The network input `[1, size, size, 3]` for an image: the whole image (or its central 87.5 % square with
    /// `centerCrop`) resized bilinearly, then normalized.
    public func input(for image: RGBImage, centerCrop: Bool = false) -> Tensor {
        let source = centerCrop ? image.centerCropped(fraction: 0.875) : image
        let size = preprocessing.size
        let pixels = source.resized(width: size, height: size)
        let mean = preprocessing.mean, std = preprocessing.std
        return Tensor(shape: [1, size, size, 3], scalars: pixels.enumerated().map { ($1 - mean[$0 % 3]) / std[$0 % 3] })
    }

    /// Class probabilities `[classes]` of a prepared input.
    public func probabilities(_ input: Tensor) throws -> [Float] {
        let output = try network.run(input).scalars
        return outputsProbabilities ? output : Softmax().forward([Tensor(shape: [1, output.count], scalars: output)]).scalars
    }

    /// The `k` most probable classes of the image at `path`.
    public func classify(path: String, top k: Int, centerCrop: Bool = false) throws -> [ClassScore] {
        try classify(try RGBImage(path: path), top: k, centerCrop: centerCrop)
    }

    /// The `k` most probable classes of a decoded image.
    public func classify(_ image: RGBImage, top k: Int, centerCrop: Bool = false) throws -> [ClassScore] {
        let scores = try probabilities(input(for: image, centerCrop: centerCrop))
        return scores.indices.sorted { scores[$0] > scores[$1] }.prefix(k).map { ClassScore(index: $0, label: labels[$0], score: scores[$0]) }
    }
}
