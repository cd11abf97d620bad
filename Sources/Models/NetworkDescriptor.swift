import Formats
import NetCore

/// What a network does.
public enum ModelTask: String, Sendable, CaseIterable {
    case soundClassification = "sound classification"
    case pitchEstimation = "pitch estimation"
    case audioEmbedding = "audio embedding"
    case imageClassification = "image classification"
}

/// How pixels become an image network's input: `(pixel − mean) / std` per channel after resizing to `size`².
public struct ImagePreprocessing: Sendable, Equatable {
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

    /// torchvision's ImageNet normalization (`transforms.Normalize` mean and std, scaled to 0…255).
    public static func torchvision(size: Int = 224) -> ImagePreprocessing {
        ImagePreprocessing(size: size, mean: [0.485, 0.456, 0.406].map { $0 * 255 }, std: [0.229, 0.224, 0.225].map { $0 * 255 })
    }
}

/// How an image classifier's outputs are read.
public struct ImageClassifierOutput: Sendable {
    public let preprocessing: ImagePreprocessing
    /// The label file (one class per line) and how many leading lines (a `background` class) the network has no
    /// output for.
    public let labels: WeightFile
    public let skippedLabels: Int
    /// Whether the network ends in a softmax already (else scores are the softmax of its logits).
    public let outputsProbabilities: Bool

    public init(preprocessing: ImagePreprocessing, labels: WeightFile = ImageNetLabels.file, skippedLabels: Int = 1,
                outputsProbabilities: Bool = false) {
        self.preprocessing = preprocessing
        self.labels = labels
        self.skippedLabels = skippedLabels
        self.outputsProbabilities = outputsProbabilities
    }
}

/// Everything AudioNet knows about one network, declared once in the network's own file and listed in
/// ``Networks/all``: its names, task, the facts MATLAB's pretrained-network table gives, its files, and how to
/// build it. The catalog (`audionet models`), the weight manifest (`audionet weights`), `run`, `info` and
/// `image classify` all read it.
public struct NetworkDescriptor: Sendable {
    /// A builder: the network for a catalog name (or alias) with the weights found through `store`, or in
    /// `weightsPath` when given.
    public typealias Loader = @Sendable (_ name: String, _ store: WeightStore, _ weightsPath: String?) throws -> Network

    public let name: String
    /// Other names that select this network (OpenL3's configurations).
    public let aliases: [String]
    public let task: ModelTask
    /// Depth as MATLAB counts it (longest path of conv/dense layers), nil where MATLAB gives none.
    public let depth: Int?
    /// Size of the float32 weights in MB.
    public let sizeMB: Double
    /// Learnable parameters, in millions.
    public let parametersMillions: Double
    /// Input size as height×width×channels (or samples×1×1).
    public let inputSize: [Int]
    /// Files the network needs to run, weights first.
    public let files: [WeightFile]
    /// Files it can also use (other formats of the weights, postprocessing parameters).
    public let optionalFiles: [WeightFile]
    /// The files an alias needs instead of ``files`` (each OpenL3 configuration has its own weights).
    public let aliasFiles: [String: [WeightFile]]
    /// The architecture with placeholder weights and every layer in place (BatchNorm unfolded), for layer
    /// tables; nil where the architecture comes only from the weight file.
    public let architecture: (@Sendable (_ name: String) throws -> Network)?
    /// Builds the network with its real weights; nil for a catalog entry AudioNet does not build yet.
    public let load: Loader?
    /// For image classifiers: preprocessing and labels.
    public let imageClassifier: ImageClassifierOutput?
    /// For audio networks: their part in the task pipeline, for a catalog name or alias (OpenL3's configurations
    /// differ in front end).
    public let audio: (@Sendable (_ name: String) -> AudioInput)?

    public init(name: String, aliases: [String] = [], task: ModelTask, depth: Int?, sizeMB: Double, parametersMillions: Double,
                inputSize: [Int], files: [WeightFile] = [], optionalFiles: [WeightFile] = [], aliasFiles: [String: [WeightFile]] = [:],
                architecture: (@Sendable (String) throws -> Network)? = nil, load: Loader? = nil,
                imageClassifier: ImageClassifierOutput? = nil, audio: (@Sendable (_ name: String) -> AudioInput)? = nil) {
        self.name = name
        self.aliases = aliases
        self.task = task
        self.depth = depth
        self.sizeMB = sizeMB
        self.parametersMillions = parametersMillions
        self.inputSize = inputSize
        self.files = files
        self.optionalFiles = optionalFiles
        self.aliasFiles = aliasFiles
        self.architecture = architecture
        self.load = load
        self.imageClassifier = imageClassifier
        self.audio = audio
    }

    /// An ImageNet classifier in torchvision's layout, with torchvision's weight file `file` (official URL,
    /// BSD-3-Clause) and state-dict builder.
    public static func torchvision(_ name: String, depth: Int?, sizeMB: Double, parametersMillions: Double, file: String,
                                   preprocessing: ImagePreprocessing = .torchvision(),
                                   build: @escaping @Sendable ([String: Tensor]?) throws -> Network) -> NetworkDescriptor {
        let weights = WeightFile(path: "torchvision/\(file)", format: "pytorch", source: .url("https://download.pytorch.org/models/\(file)"),
                                 sha256: nil, size: nil, license: "BSD-3-Clause")
        return NetworkDescriptor(
            name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB, parametersMillions: parametersMillions,
            inputSize: [preprocessing.size, preprocessing.size, 3], files: [weights, ImageNetLabels.file],
            architecture: { _ in try build(nil) },
            load: { _, store, path in try build(PyTorchStateDict(path: store.locate(weights, explicit: path)).tensors) },
            imageClassifier: ImageClassifierOutput(preprocessing: preprocessing))
    }

    /// A catalog entry AudioNet does not build yet: MATLAB's facts only.
    public static func catalogOnly(_ name: String, depth: Int?, sizeMB: Double, parametersMillions: Double, side: Int) -> NetworkDescriptor {
        NetworkDescriptor(name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB, parametersMillions: parametersMillions,
                          inputSize: [side, side, 3])
    }

    /// The files the network needs when selected by `name` (its own name or an alias).
    public func files(for name: String) -> [WeightFile] { aliasFiles[name] ?? files }

    /// Input size printed as `224×224×3`.
    public var inputDescription: String { inputSize.map(String.init).joined(separator: "×") }
}
