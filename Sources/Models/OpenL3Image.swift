import DSP
import Formats
import NetCore

/// OpenL3's image subnetwork (Cramer et al. 2019; marl/openl3 `_construct_image_network`): BatchNorm on the 224×224
/// RGB input scaled to −1…1, four blocks of 3×3 convolutions (64, 64 | 128, 128 | 256, 256 | 512) with BatchNorm and
/// ReLU (in block 1's second convolution ReLU comes before BatchNorm, as openl3 has it), 2×2 max pools between blocks,
/// a final 3×3 convolution to 512 channels (`vision_embedding_layer`, 28×28), and a max pool whose size sets the
/// embedding width: 7×7 → 8192, 28×28 → 512. One weight file per input representation and content type of the audio
/// subnetwork it was trained beside.
public enum OpenL3Image {
    /// A configuration: the audio representation and content type it was trained with, and the embedding size.
    public struct Configuration: Hashable, Sendable {
        public let representation: OpenL3FrontEnd.Representation
        public let content: String
        public let embeddingSize: Int

        /// Parses `openl3-image-mel256-music-8192`.
        public init?(modelName: String) {
            let parts = modelName.split(separator: "-").map(String.init)
            guard parts.count == 5, parts[0] == "openl3", parts[1] == "image", let representation = OpenL3FrontEnd.Representation(rawValue: parts[2]),
                  ["music", "env"].contains(parts[3]), let size = Int(parts[4]), [512, 8192].contains(size) else { return nil }
            self.init(representation: representation, content: parts[3], embeddingSize: size)
        }

        public init(representation: OpenL3FrontEnd.Representation, content: String, embeddingSize: Int) {
            self.representation = representation
            self.content = content
            self.embeddingSize = embeddingSize
        }

        public var modelName: String { "openl3-image-\(representation.rawValue)-\(content)-\(embeddingSize)" }

        /// openl3's `IMAGE_POOLING_SIZES`.
        var poolSize: Int { embeddingSize == 512 ? 28 : 7 }

        /// The official Keras weights (openl3 v0.4.0, one file for both embedding sizes; published gzipped).
        var weightFile: WeightFile {
            let name = "openl3_image_\(representation.rawValue)_\(content)"
            return WeightFile(path: "openl3/\(name).h5", format: "keras-h5",
                              source: .url("https://github.com/marl/openl3/raw/models/\(name)-v0_4_0.h5.gz"), license: "MIT")
        }
    }

    /// Every configuration: 3 representations × 2 content types × 2 sizes.
    public static let configurations: [Configuration] = OpenL3FrontEnd.Representation.allCases.flatMap { representation in
        ["music", "env"].flatMap { content in [512, 8192].map { Configuration(representation: representation, content: content, embeddingSize: $0) } }
    }

    /// `openl3-image` alone is openl3's default: mel256, music, 8192.
    public static let defaultConfiguration = Configuration(representation: .mel256, content: "music", embeddingSize: 8192)

    static func configuration(named name: String) -> Configuration {
        Configuration(modelName: name) ?? defaultConfiguration
    }

    /// The network with weights bound in the file's order (Keras's rule for these files), or placeholders.
    public static func network(_ configuration: Configuration, weights: KerasWeights?) throws -> Network {
        var b = KerasNetworkBuilder(inputShape: [224, 224, 3], file: weights, inFileOrder: true)
        var x = try b.batchNorm(b.net.inputName, scale: true)
        for (block, width) in [64, 128, 256].enumerated() {
            x = try b.relu(try b.batchNorm(try b.conv(x, width, (3, 3), bias: true), scale: true))
            x = try b.conv(x, width, (3, 3), bias: true)
            x = block == 0 ? try b.batchNorm(try b.relu(x), scale: true) : try b.relu(try b.batchNorm(x, scale: true))
            x = try b.pool(.max, x, size: 2, stride: 2, same: true)
        }
        x = try b.relu(try b.batchNorm(try b.conv(x, 512, (3, 3), bias: true), scale: true))
        x = try b.conv(x, 512, (3, 3), bias: true, name: "vision_embedding_layer")
        x = try b.pool(.max, x, size: configuration.poolSize, stride: configuration.poolSize, same: true)
        _ = try b.flatten(x)
        return try b.finished()
    }

    public static let descriptor: NetworkDescriptor = {
        var seen = Set<String>()
        let files = configurations.map(\.weightFile).filter { seen.insert($0.path).inserted }
        return NetworkDescriptor(
            name: "openl3-image", aliases: configurations.map(\.modelName), task: .imageEmbedding, depth: 9, sizeMB: 18.8,
            parametersMillions: 4.69, inputSize: [224, 224, 3], files: [defaultConfiguration.weightFile],
            optionalFiles: files.filter { $0 != defaultConfiguration.weightFile },
            aliasFiles: Dictionary(uniqueKeysWithValues: configurations.map { ($0.modelName, [$0.weightFile]) }),
            architecture: { name, _ in try network(configuration(named: name), weights: nil) },
            load: { name, store, path in
                let configuration = configuration(named: name)
                return try network(configuration, weights: KerasWeights(path: store.locate(configuration.weightFile, explicit: path)))
            },
            // openl3's _preprocess_image_batch: 8-bit pixels to 2x/255 − 1; the shorter side at 256, the central 224 square.
            imageEmbedding: ImagePreprocessing(size: 224, mean: 127.5, std: 127.5, centerCrop: true))
    }()
}
