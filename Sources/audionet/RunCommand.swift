import ArgumentParser
import AudioNet
import Foundation

/// `audionet run MODEL --input X.npy --output Y.npy [--layer NAME]`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a network on raw tensors: .npy in, .npy out, batch first.",
        discussion: """
        yamnet: [N, 96, 64] log-mel patches → [N, 521] scores; --layer embeddings gives [N, 1024]. An ONNX file runs \
        in its own layout (NCHW images) and --layer takes any of its tensor names.
        """
    )

    @Argument(help: "Model name (see `audionet models`), or a network file with its weights: .onnx, .tflite, .caffemodel (its .prototxt beside it), Darknet .weights (its .cfg beside it).")
    var model: String

    @Option(help: "Input .npy, batch first.")
    var input: String

    @Option(help: "Output .npy path.")
    var output: String

    @Option(help: "Node whose output to write (default: the network's output); `audionet info MODEL` lists them.")
    var layer: String?

    @Option(help: "Weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "float32 (exact) or int8 (convolutions and dense layers on int8 products, activations quantized as they run; layer names kept).")
    var precision: Precision = .float32

    func run() throws {
        // A network file (.onnx, .tflite, .caffemodel or .weights and its definition) is an input too.
        try OutputFile.checkDistinct(outputs: [output], inputs: [input, weights].compactMap { $0 } + Networks.inputFiles(of: model))
        let tensor = try NPY.read(path: input).tensor
        if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
            throw CommandError("'\(input)' holds \(tensor.scalars[bad]) at element \(bad) (index \(multiIndex(bad, in: tensor.shape))); inputs must be finite")
        }
        let loaded = try Networks.network(named: model, weightsPath: weights)
        precision.warnIfSlowHere()
        let network = precision == .int8 ? loaded.int8Quantized() : loaded
        let name = layer ?? network.outputName
        guard network.shapes[name] != nil else { throw NetworkError.unknownLayer(name, valid: network.nodeNames) }
        guard tensor.shape.count == network.inputShape.count + 1, Array(tensor.shape.dropFirst()) == network.inputShape else {
            throw NetworkError.shapeMismatch(layer: model, expected: "[N, \(network.inputShape.map(String.init).joined(separator: ", "))]",
                                             got: tensor.shape)
        }
        // One batch of 64 at a time, each layer across the cores: the network may be any size.
        let result = try BatchRunner(network: network, batchSize: 64, batchesSideBySide: false).run(examples: tensor, outputs: [name])[name]!
        try NPY.write(NPYArray(result), path: output)
    }
}

/// The multi-dimensional index of flat element `flat` in a C-order array of `shape`.
func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var rest = flat, index = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}
