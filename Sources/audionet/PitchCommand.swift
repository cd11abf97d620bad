import ArgumentParser
import AudioNet
import Foundation

extension CREPE.Capacity: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.hasPrefix("crepe-") ? String(argument.dropFirst(6)) : argument)
    }

    public static var allValueStrings: [String] { allCases.map(\.modelName) }
    public var defaultValueDescription: String { modelName }
}

/// `audionet pitch FILE|FOLDER… [--model crepe-full|…] [--step-ms 10] [--viterbi] [--output F.csv | --output-dir D]
/// [--activation A.npy]`.
struct PitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitch",
        abstract: "Estimate pitch with CREPE: CSV time,frequency,confidence (stdout by default).",
        discussion: """
        Any sample rate and channel count (resampled to 16 kHz mono). Frames of 1024 samples are centred on \
        their times. Frequency is 0 where the network's activation is all zero; judge voicing by confidence. \
        A folder is searched for audio files; with --output-dir each input's CSV is NAME.f0.csv there (crepe's name).
        """
    )

    @Argument(help: "Audio files or folders. With several inputs and no --output-dir, each CSV block starts with a '# FILE' line.")
    var files: [String] = []

    @OptionGroup var batch: BatchOptions

    @Option(help: "crepe-full, crepe-large, crepe-medium, crepe-small or crepe-tiny.")
    var model: CREPE.Capacity = .full

    @Option(name: .customLong("step-ms"), help: "Milliseconds between frames.")
    var stepMilliseconds: Double = 10

    @Flag(help: "Viterbi smoothing of the pitch path (as marl/crepe).")
    var viterbi = false

    @Option(help: "Write the CSV here instead of stdout.")
    var output: String?

    @Option(help: "Also write the raw activations [N, 360] as .npy (one input only).")
    var activation: String?

    @Option(help: "Keras weights file (default: looked up in the weight store).")
    var weights: String?

    func validate() throws {
        guard stepMilliseconds > 0, stepMilliseconds.isFinite else { throw CommandError("--step-ms must be positive") }
        guard batch.outputDirectory == nil || output == nil else { throw CommandError("--output and --output-dir exclude each other") }
    }

    func run() throws {
        let inputs = try Batch(files, options: batch, extensions: Batch.audioExtensions, kind: "audio files")
        guard activation == nil || inputs.inputs.count == 1 else { throw CommandError("--activation takes one input file") }
        try OutputFile.checkDistinct(outputs: [output, activation].compactMap { $0 }, inputs: inputs.inputs.map(\.path) + [weights].compactMap { $0 })
        let estimator = try PitchEstimator.crepe(model, weightsPath: weights)
        var csv = ""
        let showProgress = isatty(STDERR_FILENO) != 0 && inputs.inputs.count == 1
        var failures: BatchFailures?
        do {
            try inputs.run(suffix: ".f0.csv") { input, destination in
                let track = try estimator.estimate(file: input.path, stepMilliseconds: stepMilliseconds, viterbi: viterbi,
                                                   progress: showProgress ? progressBar(input.path) : nil)
                if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                if let destination {
                    try OutputFile.checkDistinct(outputs: [destination], inputs: [input.path])
                    try OutputFile.write(Self.table(track), to: destination)
                } else if output == nil {
                    print((inputs.inputs.count > 1 ? "# \(input.path)\n" : "") + Self.table(track), terminator: "")
                } else {
                    csv += (inputs.inputs.count > 1 ? "# \(input.path)\n" : "") + Self.table(track)
                }
                if let activation { try NPY.write(NPYArray(track.activation), path: activation) }
                return Double(track.times.count) * stepMilliseconds / 1000
            }
        } catch let batchFailures as BatchFailures {
            failures = batchFailures
        }
        if let output { try OutputFile.write(csv, to: output) }
        if let failures { throw failures }
    }

    /// The track as CSV: a header, then `time,frequency,confidence` per frame.
    static func table(_ track: PitchTrack) -> String {
        var csv = "time,frequency,confidence\n"
        for i in track.times.indices {
            csv += String(format: "%.3f,%.3f,%.6f\n", track.times[i], track.frequencies[i], track.confidences[i])
        }
        return csv
    }
}

/// A progress line on stderr (`FILE 42%`), redrawn in place.
func progressBar(_ file: String) -> @Sendable (Double) -> Void {
    { (fraction: Double) in
        FileHandle.standardError.write(Data("\r\(file) \(Int(fraction * 100))%".utf8))
    }
}
