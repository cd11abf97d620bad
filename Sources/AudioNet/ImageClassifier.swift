import Formats
import ImageIO
import Models
import NetCore

/// How pixels become the network's input: `(pixel − mean) / std` per channel after resizing.
public struct ImagePreprocessing: Sendable {
    public let size: Int
    /// Per-channel (RGB) mean and standard deviation on the 0…255 scale.
    public let mean: [Float]
    public let std: [Float]

    public init(size: Int, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3)
        self.size = size
        self.mean = mean
        self.std = std
    }

    /// The same mean and standard deviation for all channels.
    public init(size: Int, mean: Float, std: Float) { self.init(size: size, mean: [mean, mean, mean], std: [std, std, std]) }
}

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

    /// The image networks AudioNet builds: two with weights reachable here, the rest with torchvision's files.
    public static let available = ["mobilenetv2", "efficientnet-lite0"] + TorchvisionNetworks.entries.keys.sorted()

    /// Loads `name` with its weights from `store` (or `weightsPath`), run at `precision`.
    public static func load(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil,
                            precision: Precision = .float32) throws -> ImageClassifier {
        let labelLines = try String(contentsOfFile: try store.locate("mobilenet_v2/imagenet_labels.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init)
        switch name {
        case "mobilenetv2":
            // The quantized TF-Lite model: its input quantization says how pixels map to real values.
            let model = try TFLiteModel(path: try store.locate("mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite", explicit: weightsPath))
            let input = model.tensors[model.inputs[0]]
            guard let q = input.quantization, input.shape == [1, 224, 224, 3], labelLines.count == 1001 else {
                throw NetworkError.invalidWeights("unexpected MobileNetV2 TFLite input \(input.shape) or label count \(labelLines.count)")
            }
            return ImageClassifier(name: name, network: try model.network(),
                                   preprocessing: ImagePreprocessing(size: 224, mean: Float(q.zeroPoints.first ?? 0), std: 1 / q.scales[0]),
                                   labels: labelLines, outputsProbabilities: true, precision: precision)
        case "efficientnet-lite0":
            let state = try PyTorchStateDict(path: try store.locate("efficientnet/efficientnet-lite0-57934424.pth", explicit: weightsPath))
            // efficientnet/lite: MEAN_RGB = 127.0, STDDEV_RGB = 128.0; 1000 classes (no background row).
            return ImageClassifier(name: name, network: try EfficientNetLite0.network(weights: state.tensors),
                                   preprocessing: ImagePreprocessing(size: 224, mean: 127, std: 128),
                                   labels: Array(labelLines.dropFirst()), outputsProbabilities: false, precision: precision)
        default:
            guard let entry = TorchvisionNetworks.entries[name] else { throw AudioNetError.notImplemented(name, available: available) }
            let state = try PyTorchStateDict(path: try store.locate(entry.weightFile, explicit: weightsPath))
            return ImageClassifier(name: name, network: try entry.build(state.tensors),
                                   preprocessing: ImagePreprocessing(size: entry.inputSize, mean: entry.mean, std: entry.std),
                                   labels: Array(labelLines.dropFirst()), outputsProbabilities: false, precision: precision)
        }
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
