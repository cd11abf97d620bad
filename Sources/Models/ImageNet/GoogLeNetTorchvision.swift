import NetCore

/// torchvision's GoogLeNet (Szegedy et al. 2015 with batch normalisation, 6.6 M parameters; MATLAB's `googlenet` is
/// BVLC's, ``GoogLeNet``): BasicConv2d = conv (no bias) → BatchNorm (ε 1e-3) → ReLU; torchvision's third inception
/// branch uses a 3×3 convolution where the paper has 5×5.
public enum GoogLeNetTorchvision {
    /// (name, input, 1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5", pool projection), with the max pools between.
    static let inceptions: [(name: String, input: Int, c1: Int, c3r: Int, c3: Int, c5r: Int, c5: Int, pool: Int)] = [
        ("inception3a", 192, 64, 96, 128, 16, 32, 32), ("inception3b", 256, 128, 128, 192, 32, 96, 64),
        ("inception4a", 480, 192, 96, 208, 16, 48, 64), ("inception4b", 512, 160, 112, 224, 24, 64, 64),
        ("inception4c", 512, 128, 128, 256, 24, 64, 64), ("inception4d", 512, 112, 144, 288, 32, 64, 64),
        ("inception4e", 528, 256, 160, 320, 32, 128, 128), ("inception5a", 832, 256, 160, 320, 32, 128, 128),
        ("inception5b", 832, 384, 192, 384, 48, 128, 128),
    ]

    static func basicConv(_ b: inout TorchNetworkBuilder, _ name: String, _ input: Int, _ output: Int, kernel: Int,
                          stride: Int = 1, from source: String? = nil) throws -> String {
        try b.conv("\(name).conv", input, output, kernel: kernel, stride: stride, bias: false, from: source)
        try b.batchNorm("\(name).bn", output, epsilon: 1e-3)
        return try b.relu("\(name).relu")
    }

    /// Without `transform_input` (the pretrained torchvision model re-normalizes its input first).
    public static func network(weights: [String: Tensor]?) throws -> Network {
        // torchvision's pretrained file keeps the auxiliary classifiers, which it drops after loading (aux_logits=False).
        var b = TorchNetworkBuilder(inputShape: [224, 224, 3], weights: weights, unused: ["aux1.", "aux2."])
        _ = try basicConv(&b, "conv1", 3, 64, kernel: 7, stride: 2)
        try b.add("maxpool1", Pool2D(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true))
        _ = try basicConv(&b, "conv2", 64, 64, kernel: 1)
        _ = try basicConv(&b, "conv3", 64, 192, kernel: 3)
        var previous = try b.add("maxpool2", Pool2D(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true))
        for i in inceptions {
            let one = try basicConv(&b, "\(i.name).branch1", i.input, i.c1, kernel: 1, from: previous)
            _ = try basicConv(&b, "\(i.name).branch2.0", i.input, i.c3r, kernel: 1, from: previous)
            let three = try basicConv(&b, "\(i.name).branch2.1", i.c3r, i.c3, kernel: 3)
            _ = try basicConv(&b, "\(i.name).branch3.0", i.input, i.c5r, kernel: 1, from: previous)
            let five = try basicConv(&b, "\(i.name).branch3.1", i.c5r, i.c5, kernel: 3)
            try b.add("\(i.name).branch4.0", Pool2D(.max, kernel: (3, 3), stride: (1, 1), padding: .symmetric(1, 1), ceilMode: true),
                      from: [previous])
            let pool = try basicConv(&b, "\(i.name).branch4.1", i.input, i.pool, kernel: 1)
            previous = try b.add(i.name, Concat(), from: [one, three, five, pool])
            if i.name == "inception3b" {
                previous = try b.add("maxpool3", Pool2D(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true))
            } else if i.name == "inception4e" {
                previous = try b.add("maxpool4", Pool2D(.max, kernel: (2, 2), stride: (2, 2), ceilMode: true))
            }
        }
        try b.add("avgpool", GlobalAveragePool())
        try b.add("dropout", Dropout(rate: 0.2))
        try b.linear("fc", 1024, 1000)
        return try b.finished()
    }
}

extension GoogLeNetTorchvision {
    // The pretrained GoogLeNet maps its input to (x − 0.5) / 0.5 first (transform_input); normalizing so directly is the same.
    public static let descriptor = NetworkDescriptor.torchvision(
        "googlenet-torchvision", depth: 22, sizeMB: 26.5, parametersMillions: 6.62, file: "googlenet-1378be20.pth",
        preprocessing: ImagePreprocessing(size: 224, mean: 127.5, std: 127.5)) { try network(weights: $0) }
        .citing(top1: 69.778, "torchvision's documented acc@1 of these weights (IMAGENET1K_V1)")
}
