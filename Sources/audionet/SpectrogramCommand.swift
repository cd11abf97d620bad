import ArgumentParser
import AudioNet

/// `audionet spectrogram FILE --frontend NAME --output X.npy [--patches] [--plot S.png]`.
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
    var output: String?

    @Option(help: "Draw the log-mel frames (yamnet, vggish) as a .png or .svg heat map.")
    var plot: String?

    @Flag(help: "Frame the log-mel frames into the network's patches.")
    var patches = false

    func validate() throws {
        guard output != nil || plot != nil else { throw CommandError("give --output X.npy, --plot S.png, or both") }
        if let plot { _ = try Canvas.format(of: plot) }
        guard plot == nil || (!patches && !frontend.hasPrefix("openl3-")) else { throw CommandError("--plot draws the log-mel frames of yamnet or vggish, without --patches") }
    }

    func run() throws {
        try OutputFile.checkDistinct(outputs: [output, plot].compactMap { $0 }, inputs: [file])
        if frontend.hasPrefix("openl3-"), let representation = OpenL3FrontEnd.Representation(rawValue: String(frontend.dropFirst(7))) {
            let audio = try AudioFileReader.readMono(path: file, sampleRate: OpenL3FrontEnd.sampleRate)
            try NPY.write(NPYArray(OpenL3FrontEnd(representation).spectrograms(samples: audio.samples).0), path: output!)
            return
        }
        let frontEnd = try Spectrogram.frontEnd(named: frontend)
        let features = try Spectrogram.compute(path: file, frontEnd: frontEnd, patches: patches)
        if let output { try NPY.write(NPYArray(features), path: output) }
        if let plot { try Spectrogram.plot(frames: features, frontEnd: frontEnd, title: "\(file) — \(frontend) log-mel", format: Canvas.format(of: plot)).write(to: plot) }
    }
}
