import ArgumentParser
import AudioNet
import Foundation

extension PitchDecoding.Decoder: ExpressibleByArgument {}

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
        their times. Frequency is 0 where the network's activation is all zero; judge voicing by confidence, or \
        let --voicing-threshold leave unvoiced frames' frequency empty (after --silence-db and --median-filter). \
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

    @Option(help: "argmax (the strongest bin), weighted (marl/crepe's average of the nine bins around it) or viterbi (around a smoothed path).")
    var decoder: PitchDecoding.Decoder = .weighted

    @Flag(help: "Viterbi smoothing of the pitch path (marl/crepe's flag; the same as --decoder viterbi).")
    var viterbi = false

    @Option(name: .customLong("voicing-threshold"), help: "Frames whose confidence is below this are unvoiced: an empty frequency (torchcrepe's threshold.At).")
    var voicingThreshold: Float?

    @Option(name: .customLong("silence-db"), parsing: .unconditional, help: "Frames quieter than this (RMS, dBFS; e.g. -60) get confidence 0.")
    var silenceDecibels: Double?

    @Option(help: "Lowest frequency considered, Hz (the bins below are masked before decoding).")
    var fmin: Double?

    @Option(help: "Highest frequency considered, Hz.")
    var fmax: Double?

    @Option(name: .customLong("median-filter"), help: "Median filter of N frames (odd) on confidence, then on the voiced pitch (torchcrepe's filter.median).")
    var medianWindow: Int?

    @Option(help: "Write the CSV here instead of stdout.")
    var output: String?

    @Option(help: "Also write the raw activations [N, 360] as .npy (one input only).")
    var activation: String?

    @Option(help: "Keras weights file (default: looked up in the weight store).")
    var weights: String?

    func validate() throws {
        guard stepMilliseconds > 0, stepMilliseconds.isFinite else { throw CommandError("--step-ms must be positive") }
        guard batch.outputDirectory == nil || output == nil else { throw CommandError("--output and --output-dir exclude each other") }
        guard !viterbi || decoder == .weighted || decoder == .viterbi else { throw CommandError("--viterbi and --decoder \(decoder.rawValue) disagree") }
        guard voicingThreshold.map({ (0...1).contains($0) }) ?? true else { throw CommandError("--voicing-threshold must be within [0, 1]") }
        guard silenceDecibels.map({ $0.isFinite && $0 <= 0 }) ?? true else { throw CommandError("--silence-db must be a level in dBFS, at most 0") }
        guard [fmin, fmax].allSatisfy({ $0.map { $0.isFinite && $0 > 0 } ?? true }) else { throw CommandError("--fmin and --fmax must be positive frequencies in Hz") }
        guard medianWindow.map({ $0 > 0 && $0 % 2 == 1 && $0 < 10_000 }) ?? true else { throw CommandError("--median-filter takes an odd number of frames") }
        guard !CREPE.bins(from: fmin, to: fmax).isEmpty else {
            throw CommandError("no CREPE bin lies between --fmin \(fmin ?? 0) and --fmax \(fmax ?? 0) Hz (CREPE covers 31.7–2006 Hz)")
        }
    }

    /// The decoding the options ask for.
    var decoding: PitchDecoding {
        PitchDecoding(decoder: viterbi ? .viterbi : decoder, minimumFrequency: fmin, maximumFrequency: fmax, voicingThreshold: voicingThreshold,
                      silenceDecibels: silenceDecibels, medianWindow: medianWindow)
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
                let track = try estimator.estimate(file: input.path, stepMilliseconds: stepMilliseconds, decoding: decoding,
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

    /// The track as CSV: a header, then `time,frequency,confidence` per frame (the frequency empty when unvoiced).
    static func table(_ track: PitchTrack) -> String {
        var csv = "time,frequency,confidence\n"
        for i in track.times.indices {
            let frequency = track.frequencies[i].isNaN ? "" : String(format: "%.3f", track.frequencies[i])
            csv += String(format: "%.3f,", track.times[i]) + frequency + String(format: ",%.6f\n", track.confidences[i])
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
