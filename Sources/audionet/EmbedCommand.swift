import ArgumentParser
import AudioNet
import Formats
import Models
import NetCore

/// `audionet embed FILE --model yamnet --output E.npy`.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write audio embeddings, one row per patch, as a float32 .npy file.",
        discussion: "yamnet: [N, 1024], one row per 0.96 s patch every 0.48 s."
    )

    @Argument(help: "Audio file.")
    var file: String

    @Option(help: "Embedding model: yamnet.")
    var model: String = "yamnet"

    @Option(help: "Output .npy path.")
    var output: String

    @Option(help: "Optional .npy of patch start times in seconds, [N].")
    var timestamps: String?

    @Option(help: "Weights file (default: looked up in the weight store).")
    var weights: String?

    func run() throws {
        guard model == "yamnet" else { throw AudioNetError.notImplemented(model, available: ["yamnet"]) }
        let analysis = try SoundClassifier.yamnet(weightsPath: weights).analyze(file: file)
        try NPY.write(NPYArray(analysis.embeddings), path: output)
        if let timestamps {
            let times = (0..<analysis.patchCount).map { Float(Double($0) * analysis.hopSeconds) }
            try NPY.write(NPYArray(shape: [times.count], float32: times), path: timestamps)
        }
    }
}
