import ArgumentParser
import AudioNet

extension RawPCM.Encoding: ExpressibleByArgument {}

/// How an audio command reads `-`: a stream on standard input, with a header (WAV, FLAC, OGG… as libsndfile reads
/// them) or raw PCM described by `--raw-rate`, `--raw-format` and `--raw-channels`.
struct StreamInputOptions: ParsableArguments {
    @Option(name: .customLong("raw-rate"), help: ArgumentHelp("Standard input ('-') is headerless PCM at this sample rate, Hz.", valueName: "HZ"))
    var rawRate: Int?

    @Option(name: .customLong("raw-format"), help: ArgumentHelp("The raw samples: s16, s32 (signed little-endian integers) or f32 (floats). Default: s16.", valueName: "FORMAT"))
    var rawFormat: RawPCM.Encoding?

    @Option(name: .customLong("raw-channels"), help: ArgumentHelp("Interleaved channels of the raw samples (mixed to mono). Default: 1.", valueName: "N"))
    var rawChannels: Int?

    func validate() throws {
        guard rawRate != nil || (rawFormat == nil && rawChannels == nil) else { throw CommandError("--raw-format and --raw-channels need --raw-rate") }
        guard rawRate.map({ (1000...768_000).contains($0) }) ?? true else { throw CommandError("--raw-rate must be within 1000…768000 Hz") }
        guard rawChannels.map({ (1...64).contains($0) }) ?? true else { throw CommandError("--raw-channels must be within 1…64") }
    }

    /// The raw layout asked for, if any.
    var raw: RawPCM? { rawRate.map { RawPCM(sampleRate: $0, encoding: rawFormat ?? .s16, channels: rawChannels ?? 1) } }
}

extension Batch {
    /// The audio inputs, each channel on its own with `.each`, and `-` read from standard input as `stream` says.
    /// Standard input is read once: `-` may be given once, not with `--files-from -`, `--channels each` or
    /// `--output-dir` (it has no name to write under).
    func audio(_ channels: ChannelMode, stream: StreamInputOptions) throws -> Batch {
        let piped = inputs.filter(\.isStandardInput).count
        guard piped > 0 else {
            guard stream.raw == nil else { throw CommandError("--raw-rate describes standard input: give '-' as the input") }
            return splitting(channels)
        }
        guard piped == 1 else { throw CommandError("'-' (standard input) can be read once") }
        guard options.filesFrom != "-" else { throw CommandError("'-' and --files-from - both read standard input") }
        guard channels == .mix else { throw CommandError("--channels each reads a file twice; standard input ('-') can be read once") }
        guard options.outputDirectory == nil else { throw CommandError("standard input ('-') has no name to write under --output-dir: use --output or stdout") }
        return Batch(inputs: inputs.map { input in
            var input = input
            if input.isStandardInput { input.raw = stream.raw }
            return input
        }, options: options, kind: kind)
    }
}
