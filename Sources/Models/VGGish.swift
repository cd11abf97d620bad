import DSP
import Formats
import NetCore

/// VGGish (Hershey et al. 2017; research/audioset/vggish, PyTorch port harritaylor/torchvggish): a VGG body on
/// 96×64 log-mel examples, three dense layers to a 128-d embedding, and the AudioSet PCA/quantization
/// postprocessing.
public enum VGGish {
    /// `make_layers()`: 3×3 convolutions (padding 1) with ReLU, `M` = 2×2 max pool.
    enum Step { case conv(Int), pool }
    static let features: [Step] = [.conv(64), .pool, .conv(128), .pool, .conv(256), .conv(256), .pool, .conv(512), .conv(512), .pool]
    /// Dense widths after the 6×4×512 features (all followed by ReLU in torchvggish).
    static let dense = [4096, 4096, 128]
    public static let embeddingSize = 128
    public static let exampleShape = [96, 64]

    /// The network with torchvggish's state_dict (`features.0.weight`…, `embeddings.4.bias`), or placeholder
    /// weights when nil. Node names are the PyTorch module paths; the output is `embeddings.5`.
    public static func network(weights: [String: Tensor]?) throws -> Network {
        let binder = weights.map { WeightBinder($0) }
        func weight(_ name: String, _ shape: [Int]) throws -> Tensor? { try binder?.take(name, shape) }
        var net = Network(inputShape: exampleShape)
        try net.add("reshape", Reshape(exampleShape + [1]))
        var channels = 1, index = 0
        for step in features {
            switch step {
            case .conv(let filters):
                let kernel = try weight("features.\(index).weight", [filters, channels, 3, 3])?.permuted([2, 3, 1, 0])  // OIHW → HWIO
                try net.add("features.\(index)", Conv2D(inputChannels: channels, outputChannels: filters, kernel: (3, 3),
                                                         padding: .symmetric(1, 1), weights: kernel?.scalars,
                                                         bias: try weight("features.\(index).bias", [filters])?.scalars))
                try net.add("features.\(index + 1)", ActivationLayer(.relu))
                channels = filters
                index += 2
            case .pool:
                try net.add("features.\(index)", Pool2D(.max, kernel: (2, 2)))
                index += 1
            }
        }
        try net.add("flatten", Flatten())  // NHWC order, as torchvggish's transposes before view()
        var inputs = 6 * 4 * channels
        for (layer, width) in dense.enumerated() {
            let name = "embeddings.\(2 * layer)"
            let kernel = try weight("\(name).weight", [width, inputs])?.permuted([1, 0])
            try net.add(name, Dense(inputFeatures: inputs, outputFeatures: width, weights: kernel?.scalars,
                                    bias: try weight("\(name).bias", [width])?.scalars))
            try net.add("embeddings.\(2 * layer + 1)", ActivationLayer(.relu))
            inputs = width
        }
        try binder?.finished()
        return net
    }
}

extension VGGish {
    // torchvggish's converted weights and PCA parameters (release v0.1; the file names carry the first hex digits
    // of their SHA-256, which torch.hub checks), and the original PCA parameters.
    static let release = "https://github.com/harritaylor/torchvggish/releases/download/v0.1/"
    public static let weightsFile = WeightFile(path: "vggish/vggish-10086976.pth", format: "pytorch",
                                               source: .url(release + "vggish-10086976.pth"), sha256: nil, size: nil, license: "Apache-2.0")
    public static let pcaFile = WeightFile(path: "vggish/vggish_pca_params-970ea276.pth", format: "pytorch",
                                           source: .url(release + "vggish_pca_params-970ea276.pth"), sha256: nil, size: nil,
                                           license: "Apache-2.0")
    public static let officialPCAFile = WeightFile(path: "vggish/vggish_pca_params.npz", format: "npz",
                                                   source: .url("https://storage.googleapis.com/audioset/vggish_pca_params.npz"),
                                                   sha256: nil, size: nil, license: "Apache-2.0")

    /// VGGish with torchvggish's weights found through `store` (or at `weightsPath`).
    public static func network(store: WeightStore, weightsPath: String? = nil) throws -> Network {
        try network(weights: PyTorchStateDict(path: store.locate(weightsFile, explicit: weightsPath)).tensors)
    }

    public static let descriptor = NetworkDescriptor(
        // Named as its front end: the name is spelled once, in DSP's front-end table.
        name: LogMelFrontEnd.vggish.name, task: .audioEmbedding, depth: 9, sizeMB: 289, parametersMillions: 72.1, inputSize: [96, 64, 1],
        files: [weightsFile], optionalFiles: [pcaFile, officialPCAFile],
        architecture: { _, _ in try network(weights: nil) },
        load: { _, store, path in try network(store: store, weightsPath: path) },
        audio: { _ in audioInput })

    /// 0.96 s examples without overlap, 16 per call; embeddings after the last ReLU, optionally PCA-postprocessed.
    static let audioInput = AudioInput.logMel(
        .vggish, batchSize: 16, embeddings: "embeddings.5",
        postprocessing: EmbeddingPostprocessing(file: pcaFile) { path in
            let postprocessor = try VGGishPostprocessor(path: path)
            return { postprocessor.apply($0) }
        })
}

/// AudioSet's embedding postprocessing (vggish_postprocess.py): PCA with whitening, clip to [−2, 2],
/// quantize to 8 bits.
public struct VGGishPostprocessor: Sendable {
    /// `pca_eigen_vectors` `[128, 128]` (rows are output dimensions) and `pca_means` `[128]`.
    public let eigenvectors: [Float]
    public let means: [Float]
    static let clip: Float = 2

    public init(eigenvectors: [Float], means: [Float]) throws {
        let size = VGGish.embeddingSize
        guard eigenvectors.count == size * size, means.count == size else {
            throw NetworkError.invalidWeights("PCA parameters must be [128, 128] and [128], got \(eigenvectors.count) and \(means.count) values")
        }
        self.eigenvectors = eigenvectors
        self.means = means
    }

    /// Reads `pca_eigen_vectors` and `pca_means` from the official `.npz` or torchvggish's `.pth`.
    public init(path: String) throws {
        if path.hasSuffix(".npz") {
            let arrays = try NPZ.read(path: path)
            guard let vectors = arrays["pca_eigen_vectors"], let means = arrays["pca_means"] else {
                throw NetworkError.invalidWeights("'\(path)' lacks pca_eigen_vectors or pca_means")
            }
            try self.init(eigenvectors: vectors.floats, means: means.floats)
        } else {
            let state = try PyTorchStateDict(path: path)
            try self.init(eigenvectors: try state.tensor("pca_eigen_vectors", shape: [128, 128]).scalars,
                          means: try state.tensor("pca_means", shape: [128]).scalars)
        }
    }

    /// PCA applied: `eigenvectors · (embedding − means)` for each row.
    public func project(_ embeddings: Tensor) -> Tensor {
        let size = VGGish.embeddingSize, rows = embeddings.count / size
        var output = [Float](repeating: 0, count: embeddings.count)
        for row in 0..<rows {
            let centred = (0..<size).map { embeddings.scalars[row * size + $0] - means[$0] }
            for out in 0..<size {
                var sum: Float = 0
                for i in 0..<size { sum += eigenvectors[out * size + i] * centred[i] }
                output[row * size + out] = sum
            }
        }
        return Tensor(shape: embeddings.shape, scalars: output)
    }

    /// PCA-applied, clipped to [−2, 2] and quantized embeddings `[N, 128]` with values 0…255 (ties to even,
    /// as `torch.round` and `np.round`).
    public func apply(_ embeddings: Tensor) -> Tensor {
        var projected = project(embeddings)
        for i in projected.scalars.indices {
            let clipped = min(max(projected.scalars[i], -Self.clip), Self.clip)
            projected.scalars[i] = ((clipped + Self.clip) * (255 / (2 * Self.clip))).rounded(.toNearestOrEven)
        }
        return projected
    }
}
