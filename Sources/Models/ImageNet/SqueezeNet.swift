import NetCore

/// SqueezeNet (Iandola et al. 2016) in torchvision's layout: fire modules squeeze with 1×1 convolutions and expand with
/// parallel 1×1 and 3×3 convolutions whose outputs are concatenated. MATLAB's `squeezenet` is version 1.1 (a 3×3 stem
/// of 64 and the pools moved earlier: the same accuracy for 2.4× less computation); 1.0 is the paper's.
public enum SqueezeNet {
    public enum Version: Sendable {
        case v1_0, v1_1
    }

    /// Each version's `features`: the stem (output channels, kernel), then at each index a fire module's (squeeze,
    /// expand1x1 = expand3x3) or a max pool (3×3, /2, rounded up) where nil.
    static func features(_ version: Version) -> (stem: (channels: Int, kernel: Int), layers: [(index: Int, fire: (squeeze: Int, expand: Int)?)]) {
        switch version {
        case .v1_0:
            return ((96, 7), [(2, nil), (3, (16, 64)), (4, (16, 64)), (5, (32, 128)), (6, nil), (7, (32, 128)), (8, (48, 192)),
                              (9, (48, 192)), (10, (64, 256)), (11, nil), (12, (64, 256))])
        case .v1_1:
            return ((64, 3), [(2, nil), (3, (16, 64)), (4, (16, 64)), (5, nil), (6, (32, 128)), (7, (32, 128)), (8, nil),
                              (9, (48, 192)), (10, (48, 192)), (11, (64, 256)), (12, (64, 256))])
        }
    }

    public static func network(_ version: Version, weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [227, 227, 3], weights: weights)
        let (stem, layers) = features(version)
        try b.conv("features.0", 3, stem.channels, kernel: stem.kernel, stride: 2, padding: 0)
        try b.relu("features.1")
        var channels = stem.channels
        for (index, fire) in layers {
            let name = "features.\(index)"
            guard let fire else {
                try b.add(name, Pool2D(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true))
                continue
            }
            try b.conv("\(name).squeeze", channels, fire.squeeze, kernel: 1)
            let squeezed = try b.relu("\(name).squeeze_activation")
            try b.conv("\(name).expand1x1", fire.squeeze, fire.expand, kernel: 1, from: squeezed)
            let left = try b.relu("\(name).expand1x1_activation")
            try b.conv("\(name).expand3x3", fire.squeeze, fire.expand, kernel: 3, from: squeezed)
            let right = try b.relu("\(name).expand3x3_activation")
            try b.add("\(name).cat", Concat(), from: [left, right])
            channels = 2 * fire.expand
        }
        try b.add("classifier.0", Dropout(rate: 0.5))
        try b.conv("classifier.1", channels, 1000, kernel: 1)
        try b.relu("classifier.2")
        try b.add("classifier.3", GlobalAveragePool())
        return try b.finished()
    }
}

extension SqueezeNet {
    public static let descriptor = NetworkDescriptor.torchvision(
        "squeezenet", depth: 18, sizeMB: 5.2, parametersMillions: 1.24, file: "squeezenet1_1-b8a52dc0.pth",
        preprocessing: .torchvision(size: 227)) { try network(.v1_1, weights: $0) }
        .citing(top1: 58.178, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
    public static let v1_0 = NetworkDescriptor.torchvision(
        "squeezenet1_0", depth: 18, sizeMB: 5.0, parametersMillions: 1.25, file: "squeezenet1_0-b66bff10.pth",
        preprocessing: .torchvision(size: 227)) { try network(.v1_0, weights: $0) }
        .citing(top1: 58.092, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
