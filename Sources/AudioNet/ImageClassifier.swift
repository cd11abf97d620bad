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
    /// A second name for each class and the title of their column (Places365: indoor or outdoor), when there is one.
    public let groups: (title: String, names: [String])?
    /// Whether the network ends in a softmax already (else scores are the softmax of its logits).
    let outputsProbabilities: Bool
    /// Whether the network takes `[N, 3, H, W]` (an ONNX file's layout) rather than `[N, H, W, 3]`.
    let channelsFirst: Bool

    /// The classifier of `network` at `precision`; at int8 with `calibration` images, each int8 layer's input range is
    /// fixed to the range it takes over them (static quantization), else measured on each input as it runs.
    init(name: String, network: Network, preprocessing: ImagePreprocessing, labels: [String], outputsProbabilities: Bool,
         precision: Precision, calibration: [RGBImage] = [], channelsFirst: Bool = false, groups: (title: String, names: [String])? = nil) throws {
        self.name = name
        self.groups = groups
        self.preprocessing = preprocessing
        self.labels = labels
        self.outputsProbabilities = outputsProbabilities
        self.channelsFirst = channelsFirst
        guard !calibration.isEmpty else {
            self.network = network.prepared(for: precision)
            return
        }
        guard precision == .int8 else { throw AudioNetError.invalidOption("calibration images fix int8 quantization ranges: they need int8 precision") }
        let inputs = calibration.map { Self.input(for: $0, preprocessing: preprocessing, channelsFirst: channelsFirst, centerCrop: false) }
        let examples = Tensor(shape: [inputs.count] + inputs[0].shape.dropFirst(), scalars: inputs.flatMap(\.scalars))
        self.network = try network.prepared(for: precision, calibratedOn: examples)
    }

    /// An image classifier read from a network file (`.onnx`, `.tflite`) that takes square RGB images, batch first
    /// (`[N, 3, S, S]` or `[N, S, S, 3]`), with one class name per line of `labels`. `mean` and `std` are per channel
    /// on the 0…1 scale (default: torchvision's ImageNet normalization, which most ONNX image networks expect). At int8,
    /// `calibration` images fix each int8 layer's input range (static quantization).
    public static func load(networkFile path: String, labels: String, mean: [Float] = [0.485, 0.456, 0.406],
                            std: [Float] = [0.229, 0.224, 0.225], precision: Precision = .float32,
                            calibration: [RGBImage] = []) throws -> ImageClassifier {
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
            throw AudioNetError.invalidOption("the mean and standard deviation need three values each, the deviations positive")
        }
        let network = try Networks.network(named: path)
        let shape = network.inputShape
        let channelsFirst = shape.first == 3
        guard shape.count == 3, channelsFirst || shape.last == 3, channelsFirst ? shape[1] == shape[2] : shape[0] == shape[1] else {
            throw AudioNetError.invalidOption("\(path) takes input [N, \(shape.map(String.init).joined(separator: ", "))], not square RGB images")
        }
        let names = try LabelFileError.text(at: labels).split(whereSeparator: \.isNewline).map(String.init)
        guard let classes = network.shapes[network.outputName]?.last, names.count == classes else {
            throw NetworkError.invalidWeights("\(path) has \(network.shapes[network.outputName] ?? []) outputs for the \(names.count) labels of \(labels)")
        }
        let preprocessing = ImagePreprocessing(size: shape[1], mean: mean.map { $0 * 255 }, std: std.map { $0 * 255 })
        return try ImageClassifier(name: path, network: network, preprocessing: preprocessing, labels: names,
                                   outputsProbabilities: network.nodes.last?.layer is Softmax, precision: precision, calibration: calibration,
                                   channelsFirst: channelsFirst)
    }

    /// The image classifiers AudioNet builds, in catalog order.
    public static var available: [String] { Networks.built.filter { $0.imageClassifier != nil }.map(\.name) }

    /// Loads `name` with its weights from `store` (or `weightsPath`), run at `precision`; at int8, `calibration` images
    /// fix each int8 layer's input range (static quantization: faster, no range search as each image runs).
    public static func load(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil,
                            precision: Precision = .float32, calibration: [RGBImage] = []) throws -> ImageClassifier {
        let descriptor = try Networks.buildable(name)
        guard descriptor.imageEmbedding == nil else {
            throw AudioNetError.invalidOption("\(name) is an image embedding network, without classes: use `audionet image embed`")
        }
        guard let output = descriptor.imageClassifier, let load = descriptor.load else {
            throw AudioNetError.notImplemented(name, available: available)
        }
        let network = try load(name, store, weightsPath)
        let labels = try output.labels.names(store: store)
        guard let classes = network.shapes[network.outputName]?.last, labels.count == classes else {
            throw NetworkError.invalidWeights("\(name) has \(network.shapes[network.outputName] ?? []) outputs for \(labels.count) labels")
        }
        let groups = try output.groups.map { ($0.title, try $0.groups(store: store, labels: labels)) }
        return try ImageClassifier(name: name, network: network, preprocessing: output.preprocessing, labels: labels,
                                   outputsProbabilities: output.outputsProbabilities, precision: precision, calibration: calibration,
                                   groups: groups)
    }

    /// The network input `[1, size, size, 3]` (or `[1, 3, size, size]`) for an image: the whole image (or its central
    /// 87.5 % square with `centerCrop`) resized bilinearly, then normalized, its channels in the network's order.
    public func input(for image: RGBImage, centerCrop: Bool = false) -> Tensor {
        Self.input(for: image, preprocessing: preprocessing, channelsFirst: channelsFirst, centerCrop: centerCrop)
    }

    static func input(for image: RGBImage, preprocessing: ImagePreprocessing, channelsFirst: Bool, centerCrop: Bool) -> Tensor {
        let input = preprocessing.input(for: image, centerCrop: centerCrop)
        return channelsFirst ? input.permuted([0, 3, 1, 2]) : input
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
