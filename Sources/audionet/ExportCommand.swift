import ArgumentParser
import AudioNet
import Foundation

/// `audionet export MODEL --output MODEL.onnx [--weights W] [--opset 17] [--precision float32|int8]`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a network as an ONNX file that other runtimes (ONNX Runtime, MATLAB, TensorRT) run.",
        discussion: """
        The network is written as AudioNet runs it (BatchNorm and activations folded), float32, with a dynamic \
        batch dimension N. Images are NCHW in the file, as ONNX expects; audio networks take what `audionet run` \
        takes (yamnet: [N, 96, 64] log-mel patches; crepe: [N, 1024] frames). The front ends (log-mel, framing) \
        are not part of the file. A .tflite, .onnx, .caffemodel or Darknet .weights file is converted the same way. A trained model \
        (.audionet) becomes its backbone, standardisation and head, ending in class probabilities; an audio model's \
        file takes the examples of one clip and averages their embeddings, as `classify --clip` does. With \
        --precision int8 the layers AudioNet runs in int8 (convolutions other than depthwise, grouped and few-input ones; dense layers) hold int8 weights with \
        per-channel scales (DequantizeLinear, QDQ): about a quarter of the size; ONNX Runtime's optimiser runs them \
        as dynamically quantized integer products, as AudioNet does.
        """
    )

    @Argument(help: "Model name (see `audionet models`), a network file (.onnx, .tflite, .caffemodel, .weights), or a trained model (.audionet).")
    var model: String

    @Option(help: "The ONNX file to write.")
    var output: String

    @Option(help: "Weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "ONNX opset (\(ONNXExport.opsets.lowerBound)–\(ONNXExport.opsets.upperBound)).")
    var opset: Int = ONNXExport.defaultOpset

    @Option(help: "float32, or int8: the int8 layers' weights as int8 with their scales (QDQ).")
    var precision: Precision = .float32

    func validate() throws {
        guard ONNXExport.opsets.contains(opset) else {
            throw ValidationError("--opset must be in \(ONNXExport.opsets.lowerBound)–\(ONNXExport.opsets.upperBound), got \(opset)")
        }
    }

    func run() throws {
        let modelFiles = Networks.inputFiles(of: model)
        try OutputFile.checkDistinct(outputs: [output], inputs: [weights].compactMap { $0 } + modelFiles)
        var network: Network, clipEmbedding: String?
        if model.hasSuffix(".audionet") {
            (network, clipEmbedding) = try ClipClassifier(contentsOf: model, weightsPath: weights).network()
        } else {
            network = try Networks.network(named: model, weightsPath: weights)
        }
        if precision == .int8 { network = network.int8Quantized() }
        let name = modelFiles.isEmpty ? model : ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let bytes = try ONNXExport.serialized(network, name: name, opset: opset, meanOverBatchAfter: clipEmbedding)
        try OutputFile.write(bytes, to: output)
        let shape = { (tensor: String, batch: String, shape: [Int]) in
            "'\(tensor)' [\(([batch] + ONNXExport.fileShape(shape).map(String.init)).joined(separator: ", "))]"
        }
        let input = shape(network.inputName, "N", network.inputShape) + (clipEmbedding == nil ? "" : " (the examples of one clip)")
        print("\(output): \(name), opset \(opset)\(precision == .int8 ? ", int8 weights" : ""), \(String(format: "%.1f", Double(bytes.count) / 1e6)) MB; input \(input), "
              + "output \(shape(network.outputName, clipEmbedding == nil ? "N" : "1", network.shapes[network.outputName]!))")
    }
}
