import NetCore

/// ResNet (He et al. 2016) in torchvision's layout (v1.5: a bottleneck strides in its 3×3 convolution).
/// | stage | ResNet-18 | ResNet-50 / 101 |
/// |---|---|---|
/// | conv1 | 7×7, 64, /2; 3×3 max pool /2 | same |
/// | layer1 | [3×3 64, 3×3 64] × 2 | [1×1 64, 3×3 64, 1×1 256] × 3 |
/// | layer2 | [3×3 128] ×2 × 2 | [1×1 128, 3×3 128, 1×1 512] × 4 |
/// | layer3 | [3×3 256] ×2 × 2 | [1×1 256, 3×3 256, 1×1 1024] × 6 / 23 |
/// | layer4 | [3×3 512] ×2 × 2 | [1×1 512, 3×3 512, 1×1 2048] × 3 |
/// | head | average pool, fc 1000 | same |
public enum ResNet {
    public enum Depth: Int, CaseIterable, Sendable {
        case resnet18 = 18, resnet50 = 50, resnet101 = 101

        var blocks: [Int] {
            switch self {
            case .resnet18: return [2, 2, 2, 2]
            case .resnet50: return [3, 4, 6, 3]
            case .resnet101: return [3, 4, 23, 3]
            }
        }
        var bottleneck: Bool { self != .resnet18 }
    }

    /// The network with a torchvision state_dict (or placeholder weights); outputs logits at `fc`.
    public static func network(_ depth: Depth, weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [224, 224, 3], weights: weights)
        try b.conv("conv1", 3, 64, kernel: 7, stride: 2, bias: false)
        try b.batchNorm("bn1", 64)
        try b.relu("relu")
        var previous = try b.add("maxpool", Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1)))
        var channels = 64
        let expansion = depth.bottleneck ? 4 : 1
        for (stage, count) in depth.blocks.enumerated() {
            let width = 64 << stage
            for index in 0..<count {
                let name = "layer\(stage + 1).\(index)", stride = index == 0 && stage > 0 ? 2 : 1
                let output = width * expansion
                if depth.bottleneck {
                    try b.conv("\(name).conv1", channels, width, kernel: 1, bias: false, from: previous)
                    try b.batchNorm("\(name).bn1", width)
                    try b.relu("\(name).relu1")
                    try b.conv("\(name).conv2", width, width, kernel: 3, stride: stride, bias: false)
                    try b.batchNorm("\(name).bn2", width)
                    try b.relu("\(name).relu2")
                    try b.conv("\(name).conv3", width, output, kernel: 1, bias: false)
                    try b.batchNorm("\(name).bn3", output)
                } else {
                    try b.conv("\(name).conv1", channels, width, kernel: 3, stride: stride, bias: false, from: previous)
                    try b.batchNorm("\(name).bn1", width)
                    try b.relu("\(name).relu1")
                    try b.conv("\(name).conv2", width, width, kernel: 3, bias: false)
                    try b.batchNorm("\(name).bn2", width)
                }
                let main = b.last
                var shortcut = previous
                if stride != 1 || channels != output {
                    try b.conv("\(name).downsample.0", channels, output, kernel: 1, stride: stride, bias: false, from: previous)
                    shortcut = try b.batchNorm("\(name).downsample.1", output)
                }
                try b.add("\(name).add", Add(), from: [main, shortcut])
                previous = try b.relu("\(name).relu")
                channels = output
            }
        }
        try b.add("avgpool", GlobalAveragePool())
        try b.linear("fc", channels, 1000)
        return try b.finished()
    }
}

extension ResNet {
    public static let resnet18 = NetworkDescriptor.torchvision(
        "resnet18", depth: 18, sizeMB: 44, parametersMillions: 11.7, file: "resnet18-f37072fd.pth") { try network(.resnet18, weights: $0) }
        .citing(top1: 69.758, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
    public static let resnet50 = NetworkDescriptor.torchvision(
        "resnet50", depth: 50, sizeMB: 96, parametersMillions: 25.6, file: "resnet50-0676ba61.pth") { try network(.resnet50, weights: $0) }
        .citing(top1: 76.130, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
    public static let resnet101 = NetworkDescriptor.torchvision(
        "resnet101", depth: 101, sizeMB: 167, parametersMillions: 44.6, file: "resnet101-63fe2227.pth") { try network(.resnet101, weights: $0) }
        .citing(top1: 77.374, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
