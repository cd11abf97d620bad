import ArgumentParser
import AudioNet
import Formats

/// `audionet spectrogram FILE --frontend NAME --output X.npy [--patches]`.
struct SpectrogramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrogram",
        abstract: "Write the log-mel spectrogram a network sees, as a float32 .npy file.",
        discussion: "Writes [T, 64] log-mel frames, or [N, 96, 64] patches with --patches."
    )

    @Argument(help: "Audio file (WAV, FLAC, OGG, AIFF…); any rate and channel count.")
    var file: String

    @Option(help: "Front end: \(Spectrogram.frontEndNames.joined(separator: ", ")).")
    var frontend: String = "yamnet"

    @Option(help: "Output .npy path.")
    var output: String

    @Flag(help: "Frame the log-mel frames into the network's patches.")
    var patches = false

    func run() throws {
        let frontEnd = try Spectrogram.frontEnd(named: frontend)
        let features = try Spectrogram.compute(path: file, frontEnd: frontEnd, patches: patches)
        try NPY.write(NPYArray(features), path: output)
    }
}
