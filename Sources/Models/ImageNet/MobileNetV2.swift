import Formats
import NetCore

/// MobileNetV2 (Sandler et al. 2018) as the TF Lite hosted model `mobilenet_v2_1.0_224_quant`: the graph and
/// its int8 weights both come from the `.tflite` file, through the TFLite graph importer.
public enum MobileNetV2 {
    static let weights = WeightFile(
        path: "mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite", format: "tflite",
        source: .url("https://storage.googleapis.com/download.tensorflow.org/models/tflite_11_05_08/mobilenet_v2_1.0_224_quant.tgz"),
        sha256: "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", size: 3_610_798, license: "Apache-2.0")

    /// The model's input quantization (zero point 128, scale 1/128) read as a normalization: real = (q − 128) / 128.
    static let preprocessing = ImagePreprocessing(size: 224, mean: 128, std: 128)

    /// The imported network, after checking that the file's input is the one `preprocessing` describes.
    static func network(_ model: TFLiteModel) throws -> Network {
        let input = model.tensors[model.inputs[0]]
        guard input.shape == [1, 224, 224, 3], let q = input.quantization, q.zeroPoints.first == 128,
              let scale = q.scales.first, abs(scale * 128 - 1) < 1e-6 else {
            throw NetworkError.invalidWeights("unexpected MobileNetV2 TFLite input \(input.shape) \(input.quantization.map { "\($0)" } ?? "")")
        }
        return try model.network()
    }

    public static let descriptor = NetworkDescriptor(
        name: "mobilenetv2", task: .imageClassification, depth: 53, sizeMB: 13, parametersMillions: 3.5,
        inputSize: [224, 224, 3], files: [weights, ImageNetLabels.file],
        load: { _, store, path in try network(TFLiteModel(path: store.locate(weights.path, explicit: path))) },
        imageClassifier: ImageClassifierOutput(preprocessing: preprocessing, skippedLabels: 0, outputsProbabilities: true))
}
