import ArgumentParser
import AudioNet
import Foundation

extension PitchDecoding.Decoder: ExpressibleByArgument {}

/// How `pitch` writes a track.
enum PitchFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json, npz

    init?(argument: String) { self.init(rawValue: argument == "jsonl" ? "json" : argument) }
}

extension PitchDecoding.Hysteresis: ExpressibleByArgument {
    /// `LOWER,UPPER`, e.g. `0.19,0.31`.
    public init?(argument: String) {
        let bounds = argument.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard bounds.count == 2, 0 <= bounds[0], bounds[0] <= bounds[1], bounds[1] <= 1 else { return nil }
        self.init(lower: bounds[0], upper: bounds[1])
    }
}

extension CREPE.Capacity: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.hasPrefix("crepe-") ? String(argument.dropFirst(6)) : argument)
    }

    public static var allValueStrings: [String] { allCases.map(\.modelName) }
    public var defaultValueDescription: String { modelName }
}

/// `audionet pitch FILE|FOLDER… [--model crepe-full|…] [--step-ms 10] [--viterbi] [--format csv|json|npz]
/// [--output F.csv | --output-dir D] [--activation A.npy] [--embedding E.npy]`.
struct PitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitch",
        abstract: "Estimate pitch with CREPE: time, frequency, confidence per frame (CSV on stdout by default).",
        discussion: """
        Any sample rate and channel count (resampled to 16 kHz mono). Frames of 1024 samples are centred on \
        their times (with --no-centering they start there; times are still their centres). Frequency is 0 where the \
        network's activation is all zero; judge voicing by confidence, or let --voicing-threshold or --hysteresis \
        leave unvoiced frames' frequency empty (after --silence-db and --median-filter). \
        --format json writes one object per file per line ({"file", "model", "step_ms", "time", "frequency", \
        "confidence"}; null where unvoiced); npz writes the arrays time, frequency (NaN where unvoiced), confidence. \
        A folder is searched for audio files; with --output-dir each input's track is NAME.f0.csv (.json, .npz) \
        there (crepe's name). '-' reads a stream on standard input (WAV, FLAC, OGG…, or raw PCM with --raw-rate); \
        with --stream each frame is written as soon as the audio it reads has arrived. CSV rows are written as the \
        track is made, so a long file costs what a short one does (Viterbi, hysteresis and the median filter need \
        the whole track first).
        """
    )

    @Argument(help: "Audio files or folders ('-': standard input). With several inputs and no --output-dir, each CSV block starts with a '# FILE' line.")
    var files: [String] = []

    @OptionGroup var batch: BatchOptions

    @Option(help: "crepe-full, crepe-large, crepe-medium, crepe-small or crepe-tiny.")
    var model: CREPE.Capacity = .full

    @Option(help: "mix (channels averaged to mono) or each (a track per channel: NAME.ch2.f0.csv, '# FILE (channel 2)').")
    var channels: ChannelMode = .mix

    @Option(name: .customLong("step-ms"), help: "Milliseconds between frames.")
    var stepMilliseconds: Double = 10

    @Flag(name: .customLong("no-centering"), help: "Frames start at their hops instead of being centred on them (marl/crepe's center=False; no padding).")
    var noCentering = false

    @Option(help: "argmax (the strongest bin), weighted (marl/crepe's average of the nine bins around it) or viterbi (around a smoothed path).")
    var decoder: PitchDecoding.Decoder = .weighted

    @Flag(help: "Viterbi smoothing of the pitch path (marl/crepe's flag; the same as --decoder viterbi).")
    var viterbi = false

    @Option(name: .customLong("voicing-threshold"), help: "Frames whose confidence is below this are unvoiced: an empty frequency (torchcrepe's threshold.At).")
    var voicingThreshold: Float?

    @Option(help: ArgumentHelp("Voicing by two thresholds LOWER,UPPER, e.g. 0.19,0.31 (torchcrepe's threshold.Hysteresis).",
                               discussion: "A voiced run needs one frame above UPPER; its frames need LOWER, more the farther their pitch is from the file's mean."))
    var hysteresis: PitchDecoding.Hysteresis?

    @Option(name: .customLong("silence-db"), parsing: .unconditional, help: "Frames quieter than this (RMS, dBFS; e.g. -60) get confidence 0.")
    var silenceDecibels: Double?

    @Option(help: "Lowest frequency considered, Hz (the bins below are masked before decoding).")
    var fmin: Double?

    @Option(help: "Highest frequency considered, Hz.")
    var fmax: Double?

    @Option(name: .customLong("median-filter"), help: "Median filter of N frames (odd) on confidence, then on the voiced pitch (torchcrepe's filter.median).")
    var medianWindow: Int?

    @Option(help: "csv, json (one object per file per line) or npz (needs --output or --output-dir).")
    var format: PitchFormat = .csv

    @Option(help: "Write the track here instead of stdout.")
    var output: String?

    @Option(help: "Also write the raw activations [N, 360] as .npy (one input only).")
    var activation: String?

    @Option(help: "Also write torchcrepe's pitch embedding [N, 8 × channels] as .npy: the fifth block's output per frame (one input only).")
    var embedding: String?

    @Option(help: "Also draw the activations and the pitch coloured by confidence as a .png or .svg (one input only).")
    var plot: String?

    @Option(help: "Keras weights file (default: looked up in the weight store).")
    var weights: String?

    @Flag(help: "Write each frame as soon as the audio it reads has arrived (a live input: '-' on standard input); CSV rows or, with --format json, a JSON object per frame.")
    var stream = false

    @OptionGroup var streamInput: StreamInputOptions

    func validate() throws {
        guard stepMilliseconds > 0, stepMilliseconds.isFinite else { throw CommandError("--step-ms must be positive") }
        if stream {
            guard format != .npz else { throw CommandError("--stream writes CSV or JSON lines, not --format npz") }
            guard decoding.isFrameLocal else { throw CommandError("--stream decodes each frame alone: --viterbi, --hysteresis and --median-filter need the whole track") }
            guard activation == nil && embedding == nil && plot == nil else { throw CommandError("--stream does not write --activation, --embedding or --plot (they need the whole track)") }
        }
        guard batch.outputDirectory == nil || output == nil else { throw CommandError("--output and --output-dir exclude each other") }
        guard format != .npz || batch.outputDirectory != nil || output != nil else { throw CommandError("--format npz needs --output or --output-dir") }
        if let plot { _ = try Canvas.format(of: plot) }
        guard !viterbi || decoder == .weighted || decoder == .viterbi else { throw CommandError("--viterbi and --decoder \(decoder.rawValue) disagree") }
        guard voicingThreshold.map({ (0...1).contains($0) }) ?? true else { throw CommandError("--voicing-threshold must be within [0, 1]") }
        guard voicingThreshold == nil || hysteresis == nil else { throw CommandError("--voicing-threshold and --hysteresis exclude each other") }
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
                      hysteresis: hysteresis, silenceDecibels: silenceDecibels, medianWindow: medianWindow)
    }

    func run() throws {
        let inputs = try Batch(files, options: batch, extensions: Batch.audioExtensions, kind: "audio files").audio(channels, stream: streamInput)
        guard (activation == nil && embedding == nil && plot == nil) || inputs.inputs.count == 1 else {
            throw CommandError("--activation, --embedding and --plot take one input file (embed --model \(model.modelName) writes embeddings of many)")
        }
        try OutputFile.checkDistinct(outputs: [output, activation, embedding, plot].compactMap { $0 },
                                     inputs: inputs.inputs.map(\.path) + [weights].compactMap { $0 })
        let estimator = try PitchEstimator.crepe(model, weightsPath: weights)
        var failures: BatchFailures?
        if let output, format != .npz {
            // Several inputs' tracks in one file, written as they are made.
            try OutputFile.write(to: output) { append in
                try withoutActuallyEscaping(append) { append in
                    failures = try run(inputs, estimator) { try append(Array($0.utf8)) }
                }
            }
        } else {
            failures = try run(inputs, estimator, sharedOutput: nil)
        }
        if let failures { throw failures }
    }

    /// Runs every input, writing its track under `--output-dir`, to `sharedOutput` or to stdout; the failures of a
    /// run that went on past them.
    private func run(_ inputs: Batch, _ estimator: PitchEstimator, sharedOutput: ((String) throws -> Void)?) throws -> BatchFailures? {
        // Several CSV tracks in one output: each starts with `# FILE`.
        let heading = inputs.inputs.count > 1 && format == .csv && batch.outputDirectory == nil
        let toStdout: (String) throws -> Void = { text in
            print(text, terminator: "")
            if stream { try StandardOutput.flush() }
        }
        do {
            try inputs.run(suffix: ".f0.\(format.rawValue)") { input, destination in
                if let destination { try OutputFile.checkDistinct(outputs: [destination], inputs: [input.path]) }
                if format == .npz {
                    let track = try estimate(input, estimator, showsProgress: inputs.inputs.count == 1)
                    try Self.writeArchive(track, to: destination ?? output!)
                    try writeExtras(track, input: input)
                    return Double(track.times.count) * stepMilliseconds / 1000
                }
                var seconds = 0.0
                let write = { (write: (String) throws -> Void) in
                    seconds = try self.write(input, estimator, heading: heading ? "# \(input.name)\n" : "",
                                             showsProgress: inputs.inputs.count == 1, to: write)
                }
                if let destination {
                    try OutputFile.write(to: destination) { append in try write { try append(Array($0.utf8)) } }
                } else {
                    try write(sharedOutput ?? toStdout)
                }
                return seconds
            }
        } catch let batchFailures as BatchFailures {
            return batchFailures
        }
        return nil
    }

    /// The whole track of `input`.
    private func estimate(_ input: BatchInput, _ estimator: PitchEstimator, showsProgress: Bool) throws -> PitchTrack {
        let showProgress = showsProgress && !input.isStandardInput && isatty(STDERR_FILENO) != 0
        defer { if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
        return try estimator.estimate(stream: input.stream(sampleRate: CREPE.sampleRate), stepMilliseconds: stepMilliseconds,
                                      centered: !noCentering, decoding: decoding, activations: activation != nil || plot != nil,
                                      embedding: embedding != nil, progress: showProgress ? progressBar(input.path) : nil)
    }

    /// Writes `input`'s track as CSV or JSON to `write`: CSV rows (and with `--stream` JSON objects) as the frames
    /// are finished, one JSON object per file once the track is whole. Returns the seconds of audio read.
    private func write(_ input: BatchInput, _ estimator: PitchEstimator, heading: String, showsProgress: Bool,
                       to write: (String) throws -> Void) throws -> Double {
        guard stream || (format == .csv && activation == nil && embedding == nil && plot == nil) else {
            let track = try estimate(input, estimator, showsProgress: showsProgress)
            try write(heading + (format == .csv ? Self.table(track) : render(track, input: input)))
            try writeExtras(track, input: input)
            return Double(track.times.count) * stepMilliseconds / 1000
        }
        let showProgress = showsProgress && !stream && !input.isStandardInput && isatty(STDERR_FILENO) != 0
        var frames = 0
        try estimator.estimate(stream: input.stream(sampleRate: CREPE.sampleRate), stepMilliseconds: stepMilliseconds,
                               centered: !noCentering, decoding: decoding, live: stream,
                               progress: showProgress ? progressBar(input.path) : nil) { part in
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let text = format == .json ? frameLines(part, input: input) : Self.table(part, header: frames == 0 ? heading + Self.csvHeader : "")
            frames += part.times.count
            try write(text)
        }
        return Double(frames) * stepMilliseconds / 1000
    }

    /// The `--activation`, `--embedding` and `--plot` files of a whole track.
    private func writeExtras(_ track: PitchTrack, input: BatchInput) throws {
        if let activation, let values = track.activation { try NPY.write(NPYArray(values), path: activation) }
        if let embedding, let values = track.embedding { try NPY.write(NPYArray(values), path: embedding) }
        if let plot { try track.plot(title: "\(input.name) — \(model.modelName)", format: Canvas.format(of: plot)).write(to: plot) }
    }

    /// The track of `input` as one JSON line.
    func render(_ track: PitchTrack, input: BatchInput) -> String {
        JSONValue.object([
            ("file", .string(input.name)), ("model", .string(model.modelName)), ("step_ms", .number(stepMilliseconds)),
            ("time", .array(track.times.map { .number($0) })), ("frequency", .array(track.frequencies.map { .number($0) })),
            ("confidence", .array(track.confidences.map { .float($0) })),
        ]).encoded + "\n"
    }

    /// `--stream --format json`: a JSON line per frame (`{"file", "time", "frequency", "confidence"}`).
    func frameLines(_ track: PitchTrack, input: BatchInput) -> String {
        var lines = ""
        for i in track.times.indices {
            lines += JSONValue.object([("file", .string(input.name)), ("time", .number(track.times[i])),
                                       ("frequency", .number(track.frequencies[i])), ("confidence", .float(track.confidences[i]))]).encoded + "\n"
        }
        return lines
    }

    static let csvHeader = "time,frequency,confidence\n"

    /// The track as CSV: `header`, then `time,frequency,confidence` per frame (the frequency empty when unvoiced).
    static func table(_ track: PitchTrack, header: String = csvHeader) -> String {
        var csv = header
        for i in track.times.indices {
            let frequency = track.frequencies[i].isNaN ? "" : String(format: "%.3f", track.frequencies[i])
            csv += String(format: "%.3f,", track.times[i]) + frequency + String(format: ",%.6f\n", track.confidences[i])
        }
        return csv
    }

    /// The track as an `.npz` of `time` and `frequency` (float64, NaN where unvoiced) and `confidence` (float32).
    static func writeArchive(_ track: PitchTrack, to path: String) throws {
        let count = track.times.count
        try NPZ.write(["time": NPYArray(shape: [count], float64: track.times), "frequency": NPYArray(shape: [count], float64: track.frequencies),
                       "confidence": NPYArray(shape: [count], float32: track.confidences)], path: path)
    }
}

/// A progress line on stderr (`FILE 42%`), redrawn in place.
func progressBar(_ file: String) -> @Sendable (Double) -> Void {
    { (fraction: Double) in
        FileHandle.standardError.write(Data("\r\(file) \(Int(fraction * 100))%".utf8))
    }
}
