import NetCore

/// VGG-16 and VGG-19 (Simonyan & Zisserman 2015, configurations D and E) and AlexNet (Krizhevsky et al.
/// 2012, torchvision's single-tower variant without LRN), in torchvision's layout.
public enum VGG {
    public enum Variant: String, CaseIterable, Sendable {
        case vgg16, vgg19

        /// Convolution widths per block (3×3, padding 1, ReLU), each block ending in a 2×2 max pool.
        var blocks: [[Int]] {
            switch self {
            case .vgg16: return [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
            case .vgg19: return [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]]
            }
        }
    }

    /// The classifier of VGG (fc, ReLU, dropout, fc, ReLU, dropout, fc) and AlexNet (dropout first: dropout, fc,
    /// ReLU, dropout, fc, ReLU, fc), reading the NCHW-flattened `chw` features; module indices as torchvision's.
    static func classifier(_ b: inout TorchNetworkBuilder, chw: [Int], dropoutFirst: Bool) throws {
        try b.add("flatten", Flatten())
        let order: [String] = dropoutFirst ? ["dropout", "fc", "relu", "dropout", "fc", "relu", "fc"]
                                           : ["fc", "relu", "dropout", "fc", "relu", "dropout", "fc"]
        var inputs = chw.reduce(1, *), fcCount = 0
        for (index, kind) in order.enumerated() {
            let name = "classifier.\(index)"
            switch kind {
            case "fc":
                let outputs = fcCount == 2 ? 1000 : 4096
                try b.linear(name, inputs, outputs, flattenedFrom: fcCount == 0 ? chw : nil)
                inputs = outputs
                fcCount += 1
            case "relu": try b.relu(name)
            default: try b.add(name, Dropout(rate: 0.5))
            }
        }
    }

    public static func network(_ variant: Variant, weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [224, 224, 3], weights: weights)
        var channels = 3, index = 0
        for block in variant.blocks {
            for width in block {
                try b.conv("features.\(index)", channels, width, kernel: 3)
                try b.relu("features.\(index + 1)")
                channels = width
                index += 2
            }
            try b.add("features.\(index)", Pool2D(.max, kernel: (2, 2)))
            index += 1
        }
        try classifier(&b, chw: [512, 7, 7], dropoutFirst: false)  // the adaptive 7×7 average pool is the identity at 224²
        return try b.finished()
    }

    /// AlexNet as torchvision defines it; at 227² (MATLAB's input size) the features end at 6×6, where the
    /// adaptive average pool is the identity.
    public static func alexNet(weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [227, 227, 3], weights: weights)
        let convolutions: [(index: Int, input: Int, output: Int, kernel: Int, stride: Int, padding: Int, pool: Bool)] = [
            (0, 3, 64, 11, 4, 2, true), (3, 64, 192, 5, 1, 2, true), (6, 192, 384, 3, 1, 1, false),
            (8, 384, 256, 3, 1, 1, false), (10, 256, 256, 3, 1, 1, true),
        ]
        for c in convolutions {
            try b.conv("features.\(c.index)", c.input, c.output, kernel: c.kernel, stride: c.stride, padding: c.padding)
            try b.relu("features.\(c.index + 1)")
            if c.pool { try b.add("features.\(c.index + 2)", Pool2D(.max, kernel: (3, 3), stride: (2, 2))) }
        }
        try classifier(&b, chw: [256, 6, 6], dropoutFirst: true)
        return try b.finished()
    }
}

extension VGG {
    public static let alexnetTorchvision = NetworkDescriptor.torchvision(
        "alexnet-torchvision", depth: 8, sizeMB: 244, parametersMillions: 61.1, file: "alexnet-owt-7be5be79.pth",
        preprocessing: .torchvision(size: 227)) { try alexNet(weights: $0) }
        .citing(top1: 56.522, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
    public static let vgg16 = NetworkDescriptor.torchvision(
        "vgg16", depth: 16, sizeMB: 515, parametersMillions: 138, file: "vgg16-397923af.pth") { try network(.vgg16, weights: $0) }
        .citing(top1: 71.592, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
    public static let vgg19 = NetworkDescriptor.torchvision(
        "vgg19", depth: 19, sizeMB: 535, parametersMillions: 144, file: "vgg19-dcbb9e9d.pth") { try network(.vgg19, weights: $0) }
        .citing(top1: 72.376, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
