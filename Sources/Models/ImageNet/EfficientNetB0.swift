import NetCore

/// EfficientNet-B0 (Tan & Le 2019) in torchvision's layout: MBConv blocks with squeeze-and-excitation
/// (squeeze to a quarter of the block's input channels), SiLU, BatchNorm ε 1e-5, PyTorch's symmetric padding.
public enum EfficientNetB0 {
    /// (expansion, kernel, stride, input, output, layers) — torchvision `_efficientnet_conf("efficientnet_b0")`.
    static let stages: [(expansion: Int, kernel: Int, stride: Int, input: Int, output: Int, layers: Int)] = [
        (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1),
    ]

    static func convNormActivation(_ b: inout TorchNetworkBuilder, _ name: String, _ input: Int, _ output: Int, kernel: Int,
                                   stride: Int = 1, groups: Int = 1, activation: Bool = true, from source: String? = nil) throws -> String {
        try b.conv("\(name).0", input, output, kernel: kernel, stride: stride, groups: groups, bias: false, from: source)
        let normed = try b.batchNorm("\(name).1", output)
        return activation ? try b.add("\(name).2", ActivationLayer(.swish)) : normed
    }

    public static func network(weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [224, 224, 3], weights: weights)
        var previous = try convNormActivation(&b, "features.0", 3, 32, kernel: 3, stride: 2)
        for (stageIndex, stage) in stages.enumerated() {
            for layer in 0..<stage.layers {
                let name = "features.\(stageIndex + 1).\(layer)", input = layer == 0 ? stage.input : stage.output
                let stride = layer == 0 ? stage.stride : 1, expanded = input * stage.expansion
                var part = 0, x = previous
                if stage.expansion != 1 {
                    x = try convNormActivation(&b, "\(name).block.0", input, expanded, kernel: 1, from: x)
                    part = 1
                }
                x = try convNormActivation(&b, "\(name).block.\(part)", expanded, expanded, kernel: stage.kernel, stride: stride,
                                           groups: expanded, from: x)
                let se = "\(name).block.\(part + 1)", squeezed = max(1, input / 4)
                try b.add("\(se).avgpool", GlobalAveragePool(), from: [x])
                try b.add("\(se).reshape", Reshape([1, 1, expanded]))
                try b.conv("\(se).fc1", expanded, squeezed, kernel: 1)
                try b.add("\(se).activation", ActivationLayer(.swish))
                try b.conv("\(se).fc2", squeezed, expanded, kernel: 1)
                let scale = try b.add("\(se).scale_activation", ActivationLayer(.sigmoid))
                x = try b.add("\(se).scale", Multiply(), from: [x, scale])
                x = try convNormActivation(&b, "\(name).block.\(part + 2)", expanded, stage.output, kernel: 1, activation: false, from: x)
                if stride == 1 && input == stage.output { x = try b.add("\(name).add", Add(), from: [x, previous]) }
                previous = x
            }
        }
        _ = try convNormActivation(&b, "features.8", 320, 1280, kernel: 1, from: previous)
        try b.add("avgpool", GlobalAveragePool())
        try b.add("classifier.0", Dropout(rate: 0.2))
        try b.linear("classifier.1", 1280, 1000)
        return try b.finished()
    }
}

extension EfficientNetB0 {
    public static let descriptor = NetworkDescriptor.torchvision(
        "efficientnetb0", depth: 82, sizeMB: 20, parametersMillions: 5.3, file: "efficientnet_b0_rwightman-7f5810bc.pth") { try network(weights: $0) }
        .citing(top1: 77.692, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
