import NetCore

/// SqueezeNet 1.0 (Iandola et al. 2016) in torchvision's layout: fire modules squeeze with 1×1 convolutions
/// and expand with parallel 1×1 and 3×3 convolutions whose outputs are concatenated.
public enum SqueezeNet {
    /// `features` indices and (squeeze, expand1x1, expand3x3) of each fire module; max pools (3×3, /2, ceil)
    /// sit at indices 2, 6 and 11.
    static let fires: [(index: Int, squeeze: Int, expand: Int)] = [
        (3, 16, 64), (4, 16, 64), (5, 32, 128), (7, 32, 128), (8, 48, 192), (9, 48, 192), (10, 64, 256), (12, 64, 256),
    ]

    public static func network(weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [227, 227, 3], weights: weights)
        try b.conv("features.0", 3, 96, kernel: 7, stride: 2, padding: 0)
        try b.relu("features.1")
        var channels = 96
        for index in 2...12 {
            if let fire = fires.first(where: { $0.index == index }) {
                let name = "features.\(index)"
                try b.conv("\(name).squeeze", channels, fire.squeeze, kernel: 1)
                let squeezed = try b.relu("\(name).squeeze_activation")
                try b.conv("\(name).expand1x1", fire.squeeze, fire.expand, kernel: 1, from: squeezed)
                let left = try b.relu("\(name).expand1x1_activation")
                try b.conv("\(name).expand3x3", fire.squeeze, fire.expand, kernel: 3, from: squeezed)
                let right = try b.relu("\(name).expand3x3_activation")
                try b.add("\(name).cat", Concat(), from: [left, right])
                channels = 2 * fire.expand
            } else {
                try b.add("features.\(index)", Pool2D(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true))
            }
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
        "squeezenet", depth: 18, sizeMB: 5.2, parametersMillions: 1.24, file: "squeezenet1_0-b66bff10.pth",
        preprocessing: .torchvision(size: 227)) { try network(weights: $0) }
}
