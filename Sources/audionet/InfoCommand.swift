import ArgumentParser
import AudioNet
import Foundation

/// `audionet info MODEL`: a layer table like MATLAB's analyzeNetwork.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a network's layers: name, type, output shape, parameters and multiply-adds, with totals.",
        discussion: """
        The last line gives the activation memory of one example as the network runs (BatchNorm and activations \
        folded): the buffers the run uses (reused by liveness), the least any plan needs (the most alive at one \
        step), and the sum of all activations. For a trained model file (.audionet): its backbone, head, classes, \
        recipe and metrics.
        """
    )

    @Argument(help: "Model name (see `audionet models`), a network file (.onnx, .tflite, .caffemodel, .prototxt, Darknet .weights or .cfg), or a trained model file (.audionet).")
    var model: String

    @Option(help: "float32, or int8 to show which layers run in int8 (types marked \"(int8)\").")
    var precision: Precision = .float32

    func run() throws {
        if model.hasSuffix(".audionet") { return try describe(TrainedClassifier(contentsOf: model)) }
        let architecture = try Networks.architecture(named: model)
        let network = precision == .int8 ? architecture.int8Quantized() : architecture
        let rows = network.summary
        let shape = { (s: [Int]) in s.map(String.init).joined(separator: "×") }
        var table = [["input", "Input", shape(network.inputShape), "0", "0"]]
        table += rows.map { [$0.name, $0.type, shape($0.outputShape), String($0.parameters), String($0.multiplyAdds)] }
        printTable(header: ["name", "type", "output", "parameters", "multiply-adds"], rows: table)
        let parameters = rows.reduce(0) { $0 + $1.parameters }, multiplyAdds = rows.reduce(0) { $0 + $1.multiplyAdds }
        print("total: \(rows.count) layers, \(parameters) parameters (\(String(format: "%.2f", Double(parameters) / 1e6)) M), "
              + "\(multiplyAdds) multiply-adds per example (\(String(format: "%.2f", Double(multiplyAdds) / 1e9)) G)")
        let plan = architecture.activationPlan(at: precision)
        let megabytes = { (floats: Int) in String(format: "%.2f MB", Double(floats * 4) / 1e6) }
        print("activations per example: \(megabytes(plan.arenaSize)) planned (peak alive \(megabytes(plan.peakLiveSize)), "
              + "\(megabytes(plan.totalSize)) if all were kept)")
    }

    /// A trained model's description: its backbone, head, classes, recipe and metrics.
    func describe(_ trained: TrainedClassifier) {
        let layers = trained.head.layers
        let head = layers.count > 1 ? "one hidden layer of \(layers[0].outputFeatures) ReLU units" : "softmax regression"
        let source = trained.layer.map { "features at layer \($0)" } ?? "clip embeddings"
        print("\(model): a classifier on \(trained.backbone) \(source) (\(trained.head.inputs) features), \(head)")
        print("backbone weights SHA-256: \(trained.backboneSHA256 ?? "not recorded")")
        print("classes (\(trained.classes.count)): \(trained.classes.joined(separator: ", "))")
        print("parameters: \(layers.reduce(0) { $0 + $1.weights.count + $1.bias.count })")
        if !trained.fineTunedLayers.isEmpty {
            let names = trained.fineTunedLayers.keys.sorted(), count = trained.fineTunedLayers.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
            print("fine-tuned backbone layers (\(names.count), \(count) values): \(names.joined(separator: ", "))")
        }
        print("recipe: " + trained.recipe.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("metrics: " + trained.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%g", $0.value))" }.joined(separator: ", "))
    }
}
