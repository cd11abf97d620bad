import NetCore

/// ShuffleNet V2 1.0× (Ma et al. 2018) in torchvision's layout. (MATLAB's `shufflenet` is V1, which torchvision
/// does not define; V2 is what PyTorch users have.) Stages of 4, 8, 4 units with 116, 232, 464 channels: a
/// stride-2 unit runs two branches on the whole input, a stride-1 unit splits the channels and transforms one
/// half; both concatenate and shuffle channels in 2 groups.
public enum ShuffleNetV2 {
    static let repeats = [4, 8, 4]
    static let widths = [24, 116, 232, 464, 1024]

    public static func network(weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [224, 224, 3], weights: weights)
        try b.conv("conv1.0", 3, widths[0], kernel: 3, stride: 2, bias: false)
        try b.batchNorm("conv1.1", widths[0])
        try b.relu("conv1.2")
        var previous = try b.add("maxpool", Pool2D(.max, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1)))
        var channels = widths[0]
        for (stage, count) in repeats.enumerated() {
            let output = widths[stage + 1], half = output / 2
            for index in 0..<count {
                let name = "stage\(stage + 2).\(index)", stride = index == 0 ? 2 : 1
                let left: String, branchInput: String, branchChannels: Int
                if stride == 2 {
                    try b.conv("\(name).branch1.0", channels, channels, kernel: 3, stride: 2, groups: channels, bias: false, from: previous)
                    try b.batchNorm("\(name).branch1.1", channels)
                    try b.conv("\(name).branch1.2", channels, half, kernel: 1, bias: false)
                    try b.batchNorm("\(name).branch1.3", half)
                    left = try b.relu("\(name).branch1.4")
                    (branchInput, branchChannels) = (previous, channels)
                } else {
                    left = try b.add("\(name).split.0", ChannelSlice(0..<half), from: [previous])
                    branchInput = try b.add("\(name).split.1", ChannelSlice(half..<output), from: [previous])
                    branchChannels = half
                }
                try b.conv("\(name).branch2.0", branchChannels, half, kernel: 1, bias: false, from: branchInput)
                try b.batchNorm("\(name).branch2.1", half)
                try b.relu("\(name).branch2.2")
                try b.conv("\(name).branch2.3", half, half, kernel: 3, stride: stride, groups: half, bias: false)
                try b.batchNorm("\(name).branch2.4", half)
                try b.conv("\(name).branch2.5", half, half, kernel: 1, bias: false)
                try b.batchNorm("\(name).branch2.6", half)
                let right = try b.relu("\(name).branch2.7")
                try b.add("\(name).concat", Concat(), from: [left, right])
                previous = try b.add("\(name).shuffle", ChannelShuffle(groups: 2))
                channels = output
            }
        }
        try b.conv("conv5.0", channels, widths[4], kernel: 1, bias: false, from: previous)
        try b.batchNorm("conv5.1", widths[4])
        try b.relu("conv5.2")
        try b.add("mean", GlobalAveragePool())
        try b.linear("fc", widths[4], 1000)
        return try b.finished()
    }
}

extension ShuffleNetV2 {
    public static let descriptor = NetworkDescriptor.torchvision(
        "shufflenet-v2", depth: 51, sizeMB: 9.1, parametersMillions: 2.28, file: "shufflenetv2_x1-5666bf0f80.pth") { try network(weights: $0) }
        .citing(top1: 69.362, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
