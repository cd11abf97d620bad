import DSP
import Formats
import NetCore

/// OpenL3's audio subnetwork (Cramer et al. 2019; marl/openl3, PyTorch port torchopenl3): BatchNorm on the
/// input spectrogram, four blocks of 3×3 convolutions (64, 64 | 128, 128 | 256, 256 | 512) each followed by
/// BatchNorm and ReLU, 2×2 max pools between blocks, a final 3×3 convolution to 512 channels, and a max pool
/// whose size sets the embedding width.
public enum OpenL3 {
    /// A configuration: input representation, content type (music or env: same architecture, other weights),
    /// embedding size (512 or 6144).
    public struct Configuration: Hashable, Sendable {
        public let representation: OpenL3FrontEnd.Representation
        public let content: String
        public let embeddingSize: Int

        /// Parses `openl3-mel256-music-6144` (the model names of `audionet embed`).
        public init?(modelName: String) {
            let parts = modelName.split(separator: "-").map(String.init)
            guard parts.count == 4, parts[0] == "openl3", let representation = OpenL3FrontEnd.Representation(rawValue: parts[1]),
                  ["music", "env"].contains(parts[2]), let size = Int(parts[3]), [512, 6144].contains(size) else { return nil }
            self.init(representation: representation, content: parts[2], embeddingSize: size)
        }

        public init(representation: OpenL3FrontEnd.Representation, content: String, embeddingSize: Int) {
            self.representation = representation
            self.content = content
            self.embeddingSize = embeddingSize
        }

        public var modelName: String { "openl3-\(representation.rawValue)-\(content)-\(embeddingSize)" }
        /// torchopenl3's state_dict file for this configuration.
        public var weightFile: String { "openl3/torchopenl3_\(representation.rawValue)_\(content)_\(embeddingSize).pth.tar" }
        /// The official Keras weights (openl3 v0.4.0, one file for both embedding sizes).
        public var kerasWeightFile: String { "openl3/openl3_audio_\(representation.rawValue)_\(content).h5" }

        /// `AUDIO_POOLING_SIZES` of torchopenl3 (openl3's Keras models use the same).
        var poolSize: (Int, Int) {
            switch (representation, embeddingSize) {
            case (.mel128, 512): return (16, 24)
            case (.mel128, _): return (4, 8)
            case (_, 512): return (32, 24)
            default: return (8, 8)
            }
        }
    }

    /// Every configuration: 3 representations × 2 content types × 2 sizes.
    public static let configurations: [Configuration] = OpenL3FrontEnd.Representation.allCases.flatMap { representation in
        ["music", "env"].flatMap { content in [512, 6144].map { Configuration(representation: representation, content: content, embeddingSize: $0) } }
    }

    static let widths = [64, 64, 128, 128, 256, 256, 512]

    /// The official Keras weights in torchopenl3's names and layouts: `conv2d_N` kernels HWIO → OIHW, BatchNorm
    /// γ/β/moving statistics → weight/bias/running statistics (torchopenl3 was converted from these files by name).
    public static func stateDict(keras: KerasWeights) throws -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for layer in keras.layerNames {
            guard let weights = keras.layers[layer], !weights.isEmpty else { continue }
            for (name, tensor) in weights {
                switch name {
                case "kernel": state["\(layer).weight"] = tensor.permuted([3, 2, 0, 1])
                case "bias", "beta": state["\(layer).bias"] = tensor
                case "gamma": state["\(layer).weight"] = tensor
                case "moving_mean": state["\(layer).running_mean"] = tensor
                case "moving_variance": state["\(layer).running_var"] = tensor
                default: break
                }
            }
        }
        return state
    }

    /// The network on spectrograms `[bins, frames]` with a torchopenl3 state_dict (`conv2d_1.weight`,
    /// `batch_normalization_1.running_mean`…; the DFT and mel buffers are ignored) or placeholder weights.
    /// Output: `[embeddingSize]` at `flatten`.
    public static func network(_ configuration: Configuration, weights: [String: Tensor]?) throws -> Network {
        let frontEnd = OpenL3FrontEnd.shared(configuration.representation)
        var b = TorchNetworkBuilder(inputShape: [frontEnd.bins, frontEnd.frames], weights: weights, unused: ["speclayer."])
        try b.add("reshape", Reshape([frontEnd.bins, frontEnd.frames, 1]))
        try b.batchNorm("batch_normalization_1", 1, epsilon: 1e-3)
        var channels = 1
        for (index, width) in widths.enumerated() {
            try b.conv("conv2d_\(index + 1)", channels, width, kernel: 3)
            try b.batchNorm("batch_normalization_\(index + 2)", width, epsilon: 1e-3)
            try b.relu("activation_\(index + 1)")
            if index % 2 == 1 && index < 6 { try b.add("max_pooling2d_\(index / 2 + 1)", Pool2D(.max, kernel: (2, 2))) }
            channels = width
        }
        try b.conv("audio_embedding_layer", 512, 512, kernel: 3)
        try b.add("max_pooling2d_4", Pool2D(.max, kernel: configuration.poolSize))
        try b.add("flatten", Flatten())
        return try b.finished()
    }
}

extension OpenL3 {
    /// `openl3` alone means openl3's own default configuration, mel256-music-6144.
    public static let defaultConfiguration = Configuration(representation: .mel256, content: "music", embeddingSize: 6144)

    /// The configuration a model name selects: `openl3` or `openl3-mel256-music-6144`…
    public static func configuration(named name: String) -> Configuration? {
        name == "openl3" ? defaultConfiguration : Configuration(modelName: name)
    }

    /// torchopenl3's converted weights: the files AudioNet's front end matches.
    static func torchFile(_ configuration: Configuration) -> WeightFile {
        let path = configuration.weightFile
        return WeightFile(path: path, format: "pytorch",
                          source: .url("https://github.com/torchopenl3/torchopenl3-models/raw/master/\(path.dropFirst("openl3/".count))"),
                          sha256: nil, size: nil, license: "MIT")
    }

    /// The official Keras weights (openl3 v0.4.0, published gzipped; the fetcher unpacks `.gz`).
    static func kerasFile(_ configuration: Configuration) -> WeightFile {
        let path = configuration.kerasWeightFile
        return WeightFile(path: path, format: "keras-h5",
                          source: .url("https://github.com/marl/openl3/raw/models/\(path.dropFirst("openl3/".count).dropLast(3))-v0_4_0.h5.gz"),
                          sha256: nil, size: nil, license: "MIT")
    }

    /// The configuration's weights from `store` (or `weightsPath`): torchopenl3's `.pth.tar`, or else the
    /// official Keras `.h5` (a `weightsPath` ending in `.h5` is read as Keras).
    public static func weights(_ configuration: Configuration, store: WeightStore, weightsPath: String? = nil) throws -> [String: Tensor] {
        let kerasPath: String?
        if let weightsPath {
            kerasPath = weightsPath.hasSuffix(".h5") ? weightsPath : nil
        } else {
            kerasPath = store.find(configuration.weightFile) == nil ? store.find(configuration.kerasWeightFile) : nil
        }
        if let kerasPath { return try stateDict(keras: KerasWeights(path: kerasPath)) }
        return try PyTorchStateDict(path: store.locate(torchFile(configuration), explicit: weightsPath)).tensors
    }

    public static let descriptor: NetworkDescriptor = {
        let others = configurations.filter { $0 != defaultConfiguration }
        var seen = Set<String>()
        let keras = configurations.map(kerasFile).filter { seen.insert($0.path).inserted }
        return NetworkDescriptor(
            name: "openl3", aliases: configurations.map(\.modelName), task: .audioEmbedding, depth: 8, sizeMB: 18.8,
            parametersMillions: 4.68, inputSize: [128, 199, 1], files: [torchFile(defaultConfiguration)],
            optionalFiles: others.map(torchFile) + keras,
            aliasFiles: Dictionary(uniqueKeysWithValues: configurations.map { ($0.modelName, [torchFile($0)]) }),
            architecture: { name, _ in try network(configuration(named: name) ?? defaultConfiguration, weights: nil) },
            load: { name, store, path in
                let configuration = configuration(named: name) ?? defaultConfiguration
                return try network(configuration, weights: weights(configuration, store: store, weightsPath: path))
            },
            audio: { name in audioInput(configuration(named: name) ?? defaultConfiguration) })
    }()

    /// 1 s windows at 48 kHz, centred, every 0.1 s by default (openl3's `hop_size`); 8 per call, one batch after
    /// another (about 300 MB of activations for 8 windows); the embedding is the flattened max pool.
    static func audioInput(_ configuration: Configuration) -> AudioInput {
        let representation = configuration.representation
        let windows = SignalWindows(length: OpenL3FrontEnd.windowLength, leftPadding: OpenL3FrontEnd.windowLength / 2,
                                    count: { OpenL3FrontEnd.windowCount(sampleCount: $0, hop: $1, center: true) }) { samples, offset, hop, first, count in
            OpenL3FrontEnd.shared(representation).spectrograms(samples, offset: offset, hop: hop, first: first, count: count)
        }
        return AudioInput.windowed(windows, sampleRate: OpenL3FrontEnd.sampleRate, hop: AudioInput.Hop(defaultSeconds: 0.1), batchSize: 8,
                                   batchesSideBySide: false, embeddings: "flatten")
    }
}
