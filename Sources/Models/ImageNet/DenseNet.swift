import NetCore

/// DenseNet-201 (Huang et al. 2017) in torchvision's layout: growth rate 32, bottleneck width 4·32, dense
/// blocks of 6, 12, 48 and 32 layers; each layer (BN → ReLU → 1×1 → BN → ReLU → 3×3) reads the
/// concatenation of every earlier feature map of its block; transitions halve channels and resolution.
public enum DenseNet201 {
    static let growth = 32, bottleneck = 4, initial = 64
    static let blocks = [6, 12, 48, 32]

    public static func network(weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [224, 224, 3], weights: weights)
        try b.conv("features.conv0", 3, initial, kernel: 7, stride: 2, padding: 3, bias: false)
        try b.batchNorm("features.norm0", initial)
        try b.relu("features.relu0")
        var features = try b.add("features.pool0", Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1)))
        var channels = initial
        for (blockIndex, layers) in blocks.enumerated() {
            let block = "features.denseblock\(blockIndex + 1)"
            for layer in 1...layers {
                let name = "\(block).denselayer\(layer)"
                try b.batchNorm("\(name).norm1", channels, from: features)
                try b.relu("\(name).relu1")
                try b.conv("\(name).conv1", channels, bottleneck * growth, kernel: 1, bias: false)
                try b.batchNorm("\(name).norm2", bottleneck * growth)
                try b.relu("\(name).relu2")
                let new = try b.conv("\(name).conv2", bottleneck * growth, growth, kernel: 3, bias: false)
                features = try b.add("\(name).concat", Concat(), from: [features, new])
                channels += growth
            }
            if blockIndex < blocks.count - 1 {
                let transition = "features.transition\(blockIndex + 1)"
                try b.batchNorm("\(transition).norm", channels, from: features)
                try b.relu("\(transition).relu")
                try b.conv("\(transition).conv", channels, channels / 2, kernel: 1, bias: false)
                features = try b.add("\(transition).pool", Pool2D(.average, kernel: (2, 2)))
                channels /= 2
            }
        }
        try b.batchNorm("features.norm5", channels, from: features)
        try b.relu("relu")
        try b.add("avgpool", GlobalAveragePool())
        try b.linear("classifier", channels, 1000)
        return try b.finished()
    }
}

extension DenseNet201 {
    public static let descriptor = NetworkDescriptor.torchvision(
        "densenet201", depth: 201, sizeMB: 77, parametersMillions: 20.0, file: "densenet201-c1103571.pth") { try network(weights: $0) }
        .citing(top1: 76.896, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
