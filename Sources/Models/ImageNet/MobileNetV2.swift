import Formats
import NetCore

/// MobileNetV2 (Sandler et al. 2018, Table 2) with the weights of the TF Lite hosted model
/// `mobilenet_v2_1.0_224_quant`: a 3×3 stem, seventeen inverted-residual bottlenecks (1×1 expand with ReLU6, 3×3
/// depthwise with ReLU6, linear 1×1 project, a residual add where stride and width allow), a 1×1 head, average
/// pool and a 1×1 classifier over 1001 classes (`background` first). Node names are TF-slim's scopes
/// (`Conv`, `expanded_conv_3/expand`…), as in the file; padding is TensorFlow's SAME.
public enum MobileNetV2 {
    /// Table 2: expansion t, output channels c, repeats n, first stride s of each bottleneck stage.
    static let stages: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]
    static let stem = 32, head = 1280, classes = 1001, side = 224

    /// The network with weights keyed `scope/kernel` (HWIO; depthwise `[kh, kw, channels]`) and `scope/bias`, BatchNorm
    /// already folded in as the TF Lite file stores it (``stateDict(tflite:)``), or placeholder weights when nil
    /// (layer tables). Outputs probabilities at `Predictions`.
    public static func network(weights: [String: Tensor]?, unused: [String] = []) throws -> Network {
        let binder = weights.map { WeightBinder($0, unused: unused) }
        var net = Network(inputShape: [side, side, 3], inputName: "input")
        func parameters(_ scope: String, kernel: [Int], bias: Int) throws -> ([Float]?, [Float]?) {
            guard let binder else { return (nil, nil) }
            return (try binder.take("\(scope)/kernel", kernel).scalars, try binder.take("\(scope)/bias", [bias]).scalars)
        }
        func conv(_ scope: String, _ input: String, _ inputs: Int, _ outputs: Int, kernel: Int = 1, stride: Int = 1,
                  activation: Activation) throws -> String {
            let (w, b) = try parameters(scope, kernel: [kernel, kernel, inputs, outputs], bias: outputs)
            return try net.add(scope, Conv2D(inputChannels: inputs, outputChannels: outputs, kernel: (kernel, kernel), stride: (stride, stride),
                                             padding: .same, weights: w, bias: b, activation: activation), inputs: [input])
        }
        var x = try conv("Conv", "input", 3, stem, kernel: 3, stride: 2, activation: .relu6)
        var channels = stem, block = 0
        for stage in stages {
            for repeat_ in 0..<stage.n {
                let scope = block == 0 ? "expanded_conv" : "expanded_conv_\(block)"
                let stride = repeat_ == 0 ? stage.s : 1, hidden = channels * stage.t
                var h = stage.t == 1 ? x : try conv("\(scope)/expand", x, channels, hidden, activation: .relu6)
                let (w, b) = try parameters("\(scope)/depthwise", kernel: [3, 3, hidden], bias: hidden)
                h = try net.add("\(scope)/depthwise", DepthwiseConv2D(channels: hidden, kernel: (3, 3), stride: (stride, stride), padding: .same,
                                                                     weights: w, bias: b, activation: .relu6), inputs: [h])
                h = try conv("\(scope)/project", h, hidden, stage.c, activation: .identity)
                if stride == 1 && channels == stage.c { h = try net.add("\(scope)/add", Add(), inputs: [h, x]) }
                x = h
                channels = stage.c
                block += 1
            }
        }
        x = try conv("Conv_1", x, channels, head, activation: .relu6)
        x = try net.add("Logits/AvgPool", Pool2D(.average, kernel: (side / 32, side / 32)), inputs: [x])
        x = try conv("Logits/Conv2d_1c_1x1", x, head, classes, activation: .identity)
        try net.add("Logits/Squeeze", Reshape([classes]))
        try net.add("Predictions", Softmax())
        try binder?.finished()
        return net
    }

    /// The file's constant tensors by the network's keys (`sanitize`): a kernel is named
    /// `MobilenetV2/<scope>/weights_quant/…` (OHWI, or `[1, kh, kw, C]` for a depthwise one; both become the
    /// engine's layouts), a bias `MobilenetV2/<scope>/BatchNorm_Fold/bias` (the classifier's `…/biases`), each one of
    /// the `;`-joined names TF Lite gives a fused tensor. Any other constant keeps its name, for the binder to refuse
    /// unless it is the squeeze's shape operand (``unusedTFLiteTensors``).
    public static func stateDict(tflite model: TFLiteModel) throws -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (index, tensor) in model.tensors.enumerated() where tensor.data != nil {
            let parts = tensor.name.split(separator: ";").map(String.init)
            if let part = parts.last(where: { $0.hasSuffix("/weights_quant/FakeQuantWithMinMaxVars") }) {
                let scope = String(part.dropFirst("MobilenetV2/".count).dropLast("/weights_quant/FakeQuantWithMinMaxVars".count))
                let kernel = try model.floats(index)
                state["\(scope)/kernel"] = scope.hasSuffix("/depthwise")
                    ? kernel.reshaped(Array(kernel.shape.dropFirst())) : kernel.permuted([1, 2, 3, 0])
            } else if let part = parts.last(where: { $0.hasSuffix("/BatchNorm_Fold/bias") || $0.hasSuffix("/biases") }) {
                let scope = String(part.dropFirst("MobilenetV2/".count).split(separator: "/").dropLast(part.hasSuffix("/biases") ? 1 : 2)
                    .joined(separator: "/"))
                state["\(scope)/bias"] = try model.floats(index)
            } else {
                state[tensor.name] = Tensor(shape: [0], scalars: [])  // never bound: only its name is checked
            }
        }
        return state
    }

    /// The file's one constant that is not a weight: the shape operand of the classifier's squeeze.
    static let unusedTFLiteTensors = ["MobilenetV2/Logits/Squeeze"]

    static let weightsFile = WeightFile(
        path: "mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite", format: "tflite",
        source: .url("https://storage.googleapis.com/download.tensorflow.org/models/tflite_11_05_08/mobilenet_v2_1.0_224_quant.tgz"),
        sha256: "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", size: 3_610_798, license: "Apache-2.0")

    /// The model's input quantization (zero point 128, scale 1/128) read as a normalization: real = (q − 128) / 128.
    static let preprocessing = ImagePreprocessing(size: side, mean: 128, std: 128)

    /// The network bound to the file's weights, after checking that its input is the one `preprocessing` describes.
    public static func network(tflite model: TFLiteModel) throws -> Network {
        let input = model.tensors[model.inputs[0]]
        guard input.shape == [1, side, side, 3], let q = input.quantization, q.zeroPoints.first == 128,
              let scale = q.scales.first, abs(scale * 128 - 1) < 1e-6 else {
            throw NetworkError.invalidWeights("unexpected MobileNetV2 TFLite input \(input.shape) \(input.quantization.map { "\($0)" } ?? "")")
        }
        return try network(weights: stateDict(tflite: model), unused: unusedTFLiteTensors)
    }

    public static let descriptor = NetworkDescriptor(
        name: "mobilenetv2", task: .imageClassification, depth: 53, sizeMB: 13, parametersMillions: 3.5,
        inputSize: [side, side, 3], files: [weightsFile],
        architecture: { _, _ in try network(weights: nil) },
        load: { _, store, path in try network(tflite: TFLiteModel(path: store.locate(weightsFile, explicit: path))) },
        imageClassifier: ImageClassifierOutput(preprocessing: preprocessing, labels: ImageNetLabels.labels(background: true),
                                               outputsProbabilities: true))
        .citing(top1: 71.8, "tensorflow/models research/slim's MobileNet table (mobilenet_v2_1.0_224)")
}
