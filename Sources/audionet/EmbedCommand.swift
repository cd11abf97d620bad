import ArgumentParser
import AudioNet

/// `audionet embed FILE --model yamnet --output E.npy`.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write audio embeddings, one row per patch, as a float32 .npy file.",
        discussion: """
        yamnet: [N, 1024], one row per 0.96 s patch every 0.48 s. vggish: [N, 128], one row per 0.96 s example         (no overlap); --postprocess applies AudioSet's PCA, clipping and 8-bit quantization (values 0…255).
        """
    )

    @Argument(help: "Audio file.")
    var file: String

    @Option(help: "Embedding model: yamnet, vggish or openl3-mel256-music-6144 (and the other openl3 configurations).")
    var model: String = YAMNet.descriptor.name

    @Option(help: "Output .npy path.")
    var output: String

    @Option(help: "Optional .npy of patch start times in seconds, [N].")
    var timestamps: String?

    @Option(help: "Weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "float32 (exact) or int8 (dynamic-range quantized 1×1 convolutions and dense layers; faster).")
    var precision: Precision = .float32

    @Option(help: "openl3: seconds between windows.")
    var hop: Double = 0.1

    @Flag(help: "vggish: apply the PCA/quantization postprocessing.")
    var postprocess = false

    @Option(name: .customLong("pca"), help: "vggish: PCA parameters file (.pth or .npz; default: the weight store).")
    var pcaPath: String?

    func run() throws {
        try OutputFile.checkDistinct(outputs: [output, timestamps].compactMap { $0 }, inputs: [file, weights, pcaPath].compactMap { $0 })
        let embeddings: Tensor, times: [Double]
        precision.warnIfSlowHere()
        switch model {
        case YAMNet.descriptor.name:
            let analysis = try SoundClassifier.yamnet(weightsPath: weights, precision: precision).analyze(file: file)
            embeddings = analysis.embeddings
            times = (0..<analysis.patchCount).map { Double($0) * analysis.hopSeconds }
        case VGGish.descriptor.name:
            (embeddings, times) = try VGGishEmbedder.load(weightsPath: weights, postprocess: postprocess, pcaPath: pcaPath, precision: precision).embed(file: file)
        default:
            guard let configuration = OpenL3.Configuration(modelName: model) else {
                throw AudioNetError.notImplemented(model, available: [YAMNet.descriptor.name, VGGish.descriptor.name] + OpenL3.configurations.map(\.modelName))
            }
            guard hop > 0, hop.isFinite else { throw AudioNetError.invalidOption("--hop must be positive") }
            (embeddings, times) = try OpenL3Embedder.load(configuration, weightsPath: weights, precision: precision).embed(file: file, hopSeconds: hop)
        }
        try NPY.write(NPYArray(embeddings), path: output)
        if let timestamps {
            try NPY.write(NPYArray(shape: [times.count], float32: times.map { Float($0) }), path: timestamps)
        }
    }
}
