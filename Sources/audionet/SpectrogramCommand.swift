import ArgumentParser
import AudioNet

/// `audionet spectrogram FILE --frontend NAME --output X.npy [--patches]`.
struct SpectrogramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrogram",
        abstract: "Write the log-mel spectrogram a network sees, as a float32 .npy file.",
        discussion: """
        yamnet, vggish: [T, 64] log-mel frames, or [N, 96, 64] patches with --patches. openl3-linear, openl3-mel128, \
        openl3-mel256: [N, bins, frames] decibel spectrograms of the 1 s windows (every 0.1 s, centred).
        """
    )

    @Argument(help: "Audio file (WAV, FLAC, OGG, AIFF…); any rate and channel count.")
    var file: String

    @Option(help: "Front end: \(Spectrogram.frontEndNames.joined(separator: ", ")), openl3-linear, openl3-mel128, openl3-mel256.")
    var frontend: String = LogMelFrontEnd.yamnet.name

    @Option(help: "Output .npy path.")
    var output: String

    @Flag(help: "Frame the log-mel frames into the network's patches.")
    var patches = false

    func run() throws {
        try OutputFile.checkDistinct(outputs: [output], inputs: [file])
        if frontend.hasPrefix("openl3-"), let representation = OpenL3FrontEnd.Representation(rawValue: String(frontend.dropFirst(7))) {
            let audio = try AudioFileReader.readMono(path: file, sampleRate: OpenL3FrontEnd.sampleRate)
            try NPY.write(NPYArray(OpenL3FrontEnd(representation).spectrograms(samples: audio.samples).0), path: output)
            return
        }
        let frontEnd = try Spectrogram.frontEnd(named: frontend)
        let features = try Spectrogram.compute(path: file, frontEnd: frontEnd, patches: patches)
        try NPY.write(NPYArray(features), path: output)
    }
}
