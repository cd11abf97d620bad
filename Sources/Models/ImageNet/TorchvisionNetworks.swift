import NetCore

/// The catalog's image networks defined in torchvision's layouts, with their official weight files.
public enum TorchvisionNetworks {
    /// A network's weight file (manifest path) and builder.
    public struct Entry: Sendable {
        public let weightFile: String
        public let inputSize: Int
        /// Per-channel mean and standard deviation on the 0…255 scale.
        public let mean: [Float]
        public let std: [Float]
        public let build: @Sendable ([String: Tensor]?) throws -> Network
    }

    /// torchvision's ImageNet normalization.
    static let imagenetMean: [Float] = [0.485, 0.456, 0.406].map { $0 * 255 }
    static let imagenetStd: [Float] = [0.229, 0.224, 0.225].map { $0 * 255 }

    static func entry(_ file: String, size: Int = 224, mean: [Float] = imagenetMean, std: [Float] = imagenetStd,
                      _ build: @escaping @Sendable ([String: Tensor]?) throws -> Network) -> Entry {
        Entry(weightFile: "torchvision/\(file)", inputSize: size, mean: mean, std: std, build: build)
    }

    /// By catalog name.
    public static let entries: [String: Entry] = [
        "resnet18": entry("resnet18-f37072fd.pth") { try ResNet.network(.resnet18, weights: $0) },
        "resnet50": entry("resnet50-0676ba61.pth") { try ResNet.network(.resnet50, weights: $0) },
        "resnet101": entry("resnet101-63fe2227.pth") { try ResNet.network(.resnet101, weights: $0) },
        "squeezenet": entry("squeezenet1_0-b66bff10.pth", size: 227) { try SqueezeNet.network(weights: $0) },
        // The pretrained GoogLeNet maps its input to (x − 0.5) / 0.5 first (transform_input); normalizing so directly is the same.
        "googlenet": entry("googlenet-1378be20.pth", mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5]) { try GoogLeNet.network(weights: $0) },
        "alexnet": entry("alexnet-owt-7be5be79.pth", size: 227) { try VGG.alexNet(weights: $0) },
        "vgg16": entry("vgg16-397923af.pth") { try VGG.network(.vgg16, weights: $0) },
        "vgg19": entry("vgg19-dcbb9e9d.pth") { try VGG.network(.vgg19, weights: $0) },
        "densenet201": entry("densenet201-c1103571.pth") { try DenseNet201.network(weights: $0) },
        "shufflenet": entry("shufflenetv2_x1-5666bf0f80.pth") { try ShuffleNetV2.network(weights: $0) },
        "efficientnetb0": entry("efficientnet_b0_rwightman-7f5810bc.pth") { try EfficientNetB0.network(weights: $0) },
    ]
}
