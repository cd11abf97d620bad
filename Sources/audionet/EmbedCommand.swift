import ArgumentParser
import AudioNet

/// `audionet embed FILE --model yamnet --output E.npy`.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write audio embeddings, one row per example, as a float32 .npy file.",
        discussion: """
        yamnet: [N, 1024], one row per 0.96 s patch every 0.48 s. vggish: [N, 128], one row per 0.96 s example \
        (no overlap); --postprocess applies AudioSet's PCA, clipping and 8-bit quantization (values 0…255). \
        openl3-*: [N, 512 or 6144], one row per 1 s window centred every --hop seconds.
        """
    )

    @Argument(help: "Audio file.")
    var file: String

    @Option(help: ArgumentHelp("Embedding network.", discussion: Networks.audioEmbedding.joined(separator: ", ")))
    var model: String = YAMNet.descriptor.name

    @Option(help: "Output .npy path.")
    var output: String

    @Option(help: "Optional .npy of example times in seconds, [N].")
    var timestamps: String?

    @Option(help: "Weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "float32 (exact) or int8 (dynamic-range quantized 1×1 convolutions and dense layers; faster).")
    var precision: Precision = .float32

    @Option(help: "Seconds between windows, for networks whose hop can be set (openl3; default 0.1).")
    var hop: Double?

    @Flag(help: "Apply the network's embedding postprocessing (vggish: AudioSet's PCA, clipping and 8-bit quantization).")
    var postprocess = false

    @Option(name: .customLong("pca"), help: "The postprocessing parameters file (vggish: .pth or .npz; default: the weight store).")
    var pcaPath: String?

    func run() throws {
        try OutputFile.checkDistinct(outputs: [output, timestamps].compactMap { $0 }, inputs: [file, weights, pcaPath].compactMap { $0 })
        precision.warnIfSlowHere()
        let embedder = try AudioEmbedder.load(model, weightsPath: weights, precision: precision, postprocess: postprocess,
                                              postprocessingPath: pcaPath)
        let (embeddings, times) = try embedder.embed(file: file, hopSeconds: hop)
        try NPY.write(NPYArray(embeddings), path: output)
        if let timestamps {
            try NPY.write(NPYArray(shape: [times.count], float32: times.map { Float($0) }), path: timestamps)
        }
    }
}
