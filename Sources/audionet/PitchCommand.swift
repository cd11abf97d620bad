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

/// `audionet pitch FILE… [--model crepe-full|…] [--step-ms 10] [--viterbi] [--output F.csv] [--activation A.npy]`.
struct PitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitch",
        abstract: "Estimate pitch with CREPE: CSV time,frequency,confidence (stdout by default).",
        discussion: """
        Any sample rate and channel count (resampled to 16 kHz mono). Frames of 1024 samples are centred on \
        their times. Frequency is 0 where the network's activation is all zero; judge voicing by confidence.
        """
    )

    @Argument(help: "Audio files. With several files, each CSV block starts with a '# FILE' line.")
    var files: [String]

    @Option(help: "crepe-full, crepe-large, crepe-medium, crepe-small or crepe-tiny.")
    var model: CREPE.Capacity = .full

    @Option(name: .customLong("step-ms"), help: "Milliseconds between frames.")
    var stepMilliseconds: Double = 10

    @Flag(help: "Viterbi smoothing of the pitch path (as marl/crepe).")
    var viterbi = false

    @Option(help: "Write the CSV here instead of stdout.")
    var output: String?

    @Option(help: "Also write the raw activations [N, 360] as .npy (one file only).")
    var activation: String?

    @Option(help: "Keras weights file (default: looked up in the weight store).")
    var weights: String?

    func validate() throws {
        guard stepMilliseconds > 0, stepMilliseconds.isFinite else { throw CommandError("--step-ms must be positive") }
        guard activation == nil || files.count == 1 else { throw CommandError("--activation takes one input file") }
    }

    func run() throws {
        try OutputFile.checkDistinct(outputs: [output, activation].compactMap { $0 }, inputs: files + [weights].compactMap { $0 })
        let estimator = try PitchEstimator.crepe(model, weightsPath: weights)
        var csv = ""
        let showProgress = isatty(STDERR_FILENO) != 0
        for file in files {
            let track = try estimator.estimate(file: file, stepMilliseconds: stepMilliseconds, viterbi: viterbi,
                                               progress: showProgress ? progressBar(file) : nil)
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if files.count > 1 { csv += "# \(file)\n" }
            csv += "time,frequency,confidence\n"
            for i in track.times.indices {
                csv += String(format: "%.3f,%.3f,%.6f\n", track.times[i], track.frequencies[i], track.confidences[i])
            }
            if let activation { try NPY.write(NPYArray(track.activation), path: activation) }
        }
        if let output {
            try OutputFile.write(csv, to: output)
        } else {
            print(csv, terminator: "")
        }
    }
}

/// A progress line on stderr (`FILE 42%`), redrawn in place.
func progressBar(_ file: String) -> @Sendable (Double) -> Void {
    { (fraction: Double) in
        FileHandle.standardError.write(Data("\r\(file) \(Int(fraction * 100))%".utf8))
    }
}
