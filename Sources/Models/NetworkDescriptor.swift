import Formats
import NetCore

/// What a network does.
public enum ModelTask: String, Sendable, CaseIterable {
    case soundClassification = "sound classification"
    case pitchEstimation = "pitch estimation"
    case audioEmbedding = "audio embedding"
    case imageClassification = "image classification"
    case imageEmbedding = "image embedding"
}

/// How pixels become an image network's input: `(pixel − mean) / std` per channel after resizing to `size`², the
/// channels then in the network's order.
public struct ImagePreprocessing: Sendable, Equatable {
    public let size: Int
    /// Per-channel (RGB) mean and standard deviation on the 0…255 scale.
    public let mean: [Float]
    public let std: [Float]
    /// Whether the network takes its channels as blue, green, red (Caffe's).
    public let bgr: Bool
    /// Whether the network's own pipeline crops the central square (a `size` crop of the shorter side scaled to
    /// `size` / 0.875) rather than resizing the whole image; features are read so.
    public let centerCrop: Bool

    public init(size: Int, mean: [Float], std: [Float], bgr: Bool = false, centerCrop: Bool = false) {
        precondition(mean.count == 3 && std.count == 3)
        self.size = size
        self.mean = mean
        self.std = std
        self.bgr = bgr
        self.centerCrop = centerCrop
    }

    /// The same mean and standard deviation for all channels.
    public init(size: Int, mean: Float, std: Float, centerCrop: Bool = false) {
        self.init(size: size, mean: [mean, mean, mean], std: [std, std, std], centerCrop: centerCrop)
    }

    /// BVLC Caffe's ImageNet input: BGR on the 0…255 scale less the mean pixel of `ilsvrc_2012_mean.npy`
    /// (Caffe's `imagenet_mean.hpp`: R 122.67, G 116.66, B 104.00).
    public static func caffe(size: Int) -> ImagePreprocessing {
        ImagePreprocessing(size: size, mean: [122.67, 116.66, 104.00], std: [1, 1, 1], bgr: true)
    }

    /// torchvision's ImageNet normalization (`transforms.Normalize` mean and std, scaled to 0…255).
    public static func torchvision(size: Int = 224) -> ImagePreprocessing {
        ImagePreprocessing(size: size, mean: [0.485, 0.456, 0.406].map { $0 * 255 }, std: [0.229, 0.224, 0.225].map { $0 * 255 })
    }
}

/// How an image classifier's outputs are read.
public struct ImageClassifierOutput: Sendable {
    public let preprocessing: ImagePreprocessing
    public let labels: ImageLabels
    /// Whether the network ends in a softmax already (else scores are the softmax of its logits).
    public let outputsProbabilities: Bool
    /// A second name for each class, when the network has one.
    public let groups: ClassGroups?

    /// Defaults: ImageNet's 1000 classes.
    public init(preprocessing: ImagePreprocessing, labels: ImageLabels = ImageNetLabels.labels(),
                outputsProbabilities: Bool = false, groups: ClassGroups? = nil) {
        self.preprocessing = preprocessing
        self.labels = labels
        self.outputsProbabilities = outputsProbabilities
        self.groups = groups
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
    /// Files the network needs to run, weights first (an image classifier's label files last).
    public let files: [WeightFile]
    /// Files it can also use (other formats of the weights, postprocessing parameters).
    public let optionalFiles: [WeightFile]
    /// The files an alias needs instead of ``files`` (each OpenL3 configuration has its own weights).
    public let aliasFiles: [String: [WeightFile]]
    /// The architecture with placeholder weights and every layer in place (BatchNorm unfolded), for layer
    /// tables; nil where the architecture comes only from the weight file.
    public let architecture: (@Sendable (_ name: String, _ store: WeightStore) throws -> Network)?
    /// Builds the network with its real weights; nil for a catalog entry AudioNet does not build yet.
    public let load: Loader?
    /// For image classifiers: preprocessing and labels.
    public let imageClassifier: ImageClassifierOutput?
    /// For image embedding networks (no classes; their output is the embedding): how pixels become their input.
    public let imageEmbedding: ImagePreprocessing?
    /// For audio networks: their part in the task pipeline, for a catalog name or alias (OpenL3's configurations
    /// differ in front end).
    public let audio: (@Sendable (_ name: String) -> AudioInput)?
    /// ImageNet top-1 accuracy of these weights as published, in percent, with where (`audionet compare` draws it).
    public private(set) var publishedTop1: (percent: Double, source: String)?

    /// This descriptor with the published ImageNet top-1 accuracy of its weights and its source.
    public func citing(top1 percent: Double, _ source: String) -> NetworkDescriptor {
        var cited = self
        cited.publishedTop1 = (percent, source)
        return cited
    }

    public init(name: String, aliases: [String] = [], task: ModelTask, depth: Int?, sizeMB: Double, parametersMillions: Double,
                inputSize: [Int], files: [WeightFile] = [], optionalFiles: [WeightFile] = [], aliasFiles: [String: [WeightFile]] = [:],
                architecture: (@Sendable (String, WeightStore) throws -> Network)? = nil, load: Loader? = nil,
                imageClassifier: ImageClassifierOutput? = nil, imageEmbedding: ImagePreprocessing? = nil,
                audio: (@Sendable (_ name: String) -> AudioInput)? = nil) {
        self.name = name
        self.aliases = aliases
        self.task = task
        self.depth = depth
        self.sizeMB = sizeMB
        self.parametersMillions = parametersMillions
        self.inputSize = inputSize
        self.files = files + (imageClassifier.map { $0.labels.files + [$0.groups?.file].compactMap { $0 } } ?? [])
        self.optionalFiles = optionalFiles
        self.aliasFiles = aliasFiles
        self.architecture = architecture
        self.load = load
        self.imageClassifier = imageClassifier
        self.imageEmbedding = imageEmbedding
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
            inputSize: [preprocessing.size, preprocessing.size, 3], files: [weights],
            architecture: { _, _ in try build(nil) },
            load: { _, store, path in try build(PyTorchStateDict(path: store.locate(weights, explicit: path)).tensors) },
            imageClassifier: ImageClassifierOutput(preprocessing: preprocessing))
    }

    /// A `keras.applications` ImageNet classifier with Keras's official weight file `file` (legacy HDF5 layout), input
    /// `side`² scaled to −1…1 (the applications' `preprocess_input` in "tf" mode), ending in a softmax.
    public static func kerasApplication(_ name: String, depth: Int?, sizeMB: Double, parametersMillions: Double, side: Int,
                                        folder: String, file: String, license: String,
                                        build: @escaping @Sendable (KerasWeights?) throws -> Network) -> NetworkDescriptor {
        let weights = WeightFile(path: "keras/\(file)", format: "keras-h5",
                                 source: .url("https://storage.googleapis.com/tensorflow/keras-applications/\(folder)/\(file)"), license: license)
        return NetworkDescriptor(
            name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB, parametersMillions: parametersMillions,
            inputSize: [side, side, 3], files: [weights],
            architecture: { _, _ in try build(nil) },
            load: { _, store, path in try build(KerasWeights(path: store.locate(weights, explicit: path))) },
            imageClassifier: ImageClassifierOutput(preprocessing: ImagePreprocessing(size: side, mean: 127.5, std: 127.5), outputsProbabilities: true))
    }

    /// An image classifier defined by a Caffe deploy definition (`definition`, protobuf text) with trained blobs
    /// (`weights`, a `.caffemodel`), read by the Caffe importer with channels-last input; node names are Caffe's layer names.
    public static func caffe(_ name: String, depth: Int?, sizeMB: Double, parametersMillions: Double, definition: WeightFile,
                             weights: WeightFile, classifier: ImageClassifierOutput) -> NetworkDescriptor {
        let size = classifier.preprocessing.size
        return NetworkDescriptor(
            name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB, parametersMillions: parametersMillions,
            inputSize: [size, size, 3], files: [weights, definition],
            architecture: { _, store in try CaffeModel(prototxt: store.locate(definition), caffemodel: nil).network(channelsLast: true) },
            load: { _, store, path in
                try CaffeModel(prototxt: store.locate(definition), caffemodel: store.locate(weights, explicit: path)).network(channelsLast: true)
            },
            imageClassifier: classifier)
    }

    /// An image classifier whose graph and weights are one ONNX file (`weights`), read by the ONNX importer with
    /// channels-last input; node names are the file's tensor names.
    public static func onnx(_ name: String, depth: Int?, sizeMB: Double, parametersMillions: Double, weights: WeightFile,
                            classifier: ImageClassifierOutput) -> NetworkDescriptor {
        let size = classifier.preprocessing.size
        return NetworkDescriptor(
            name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB, parametersMillions: parametersMillions,
            inputSize: [size, size, 3], files: [weights],
            load: { _, store, path in try ONNXModel(path: store.locate(weights, explicit: path)).network(channelsLast: true) },
            imageClassifier: classifier)
    }

    /// How an image network (classifier or embedding) takes pixels; nil for audio networks.
    public var imagePreprocessing: ImagePreprocessing? { imageClassifier?.preprocessing ?? imageEmbedding }

    /// The files the network needs when selected by `name` (its own name or an alias).
    public func files(for name: String) -> [WeightFile] { aliasFiles[name] ?? files }

    /// Input size printed as `224×224×3`.
    public var inputDescription: String { inputSize.map(String.init).joined(separator: "×") }
}
