/// ShuffleNet v1 (Zhang et al. 2017), MATLAB's `shufflenet`: the Caffe2 model that the ONNX model zoo publishes as
/// `shufflenet-9.onnx` (the file MATLAB imports), run as that graph defines it through the ONNX importer. Stages of
/// 4, 8, 4 units of 136, 272, 544 channels (grouped 1×1 convolutions, channel shuffle, depthwise 3×3; a stride-2 unit
/// concatenates an average-pooled shortcut), 1.4 M parameters. Node names are the file's (`gpu_0/block0_1`).
public enum ShuffleNet {
    // The model zoo's README: Caffe2 ShuffleNet-v1 converted to ONNX (opset 9), BSD-3-Clause.
    static let weights = WeightFile(
        path: "onnx/shufflenet-9.onnx", format: "onnx",
        source: .url("https://github.com/onnx/models/raw/main/validated/vision/classification/shufflenet/model/shufflenet-9.onnx"),
        license: "BSD-3-Clause")

    // The model zoo's preprocessing for its ImageNet classifiers: 0…1 RGB less torchvision's mean, over its deviation.
    public static let descriptor = NetworkDescriptor.onnx(
        "shufflenet", depth: 50, sizeMB: 5.4, parametersMillions: 1.4, weights: weights,
        classifier: ImageClassifierOutput(preprocessing: .torchvision(), outputsProbabilities: true))
}
