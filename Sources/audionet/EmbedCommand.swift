import ArgumentParser
import AudioNet
import Foundation

extension AudioEmbedder.Pooling: ExpressibleByArgument {}

/// `audionet embed FILE|FOLDER… --model yamnet (--output E.npy | --output-dir D)`.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write audio embeddings, one row per example, as a float32 .npy file.",
        discussion: """
        yamnet: [N, 1024], one row per 0.96 s patch every 0.48 s. vggish: [N, 128], one row per 0.96 s example \
        (no overlap); --postprocess applies AudioSet's PCA, clipping and 8-bit quantization (values 0…255). \
        openl3-*: [N, 512 or 6144], one row per 1 s window centred every --hop seconds. crepe-*: [N, 8 × channels], \
        torchcrepe's pitch embedding (the fifth block's output) per 1024-sample frame every --hop seconds (0.01). Several inputs or a folder \
        need --output-dir: each input's embeddings are NAME.MODEL.npy there, its example times NAME.MODEL.times.npy. \
        --pool mean or max writes one embedding per file, [size].
        """
    )

    @Argument(help: "Audio files or folders.")
    var files: [String] = []

    @OptionGroup var batch: BatchOptions

    @OptionGroup var streamInput: StreamInputOptions

    @Option(help: ArgumentHelp("Embedding network.", discussion: Networks.audioEmbedding.joined(separator: ", ")),
            completion: .list(Networks.audioEmbedding))
    var model: String = YAMNet.descriptor.name

    @Option(help: "Output .npy path (one input).")
    var output: String?

    @Option(help: "Optional .npy of example times in seconds, [N] (with --output: under --output-dir they are always written).")
    var timestamps: String?

    @Option(help: "Weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "float32 (exact) or int8 (convolutions and dense layers on int8 products, activations quantized as they run; faster).")
    var precision: Precision = .float32

    @Option(help: "Seconds between examples: openl3's windows (default 0.1), crepe's frames (0.01), yamnet's and vggish's patches (0.48, 0.96; whole 10 ms frames).")
    var hop: Double?

    @Option(help: "mix (channels averaged to mono) or each (embeddings per channel: NAME.ch2.MODEL.npy; needs --output-dir for several channels).")
    var channels: ChannelMode = .mix

    @Option(help: "mean or max over the examples for one embedding per file ([size]), or none (a row per example).")
    var pool: AudioEmbedder.Pooling = .none

    @Flag(help: "Apply the network's embedding postprocessing (vggish: AudioSet's PCA, clipping and 8-bit quantization).")
    var postprocess = false

    @Option(name: .customLong("pca"), help: "The postprocessing parameters file (vggish: .pth or .npz; default: the weight store).")
    var pcaPath: String?

    func validate() throws {
        guard (output == nil) != (batch.outputDirectory == nil) else { throw CommandError("give --output (one input) or --output-dir") }
        guard timestamps == nil || pool == .none else { throw CommandError("--timestamps has no meaning for a pooled embedding (--pool \(pool.rawValue))") }
        guard timestamps == nil || output != nil else { throw CommandError("--timestamps goes with --output; under --output-dir each input's times are NAME.MODEL.times.npy") }
    }

    func run() throws {
        let inputs = try Batch(files, options: batch, extensions: Batch.audioExtensions, kind: "audio files").audio(channels, stream: streamInput)
        guard batch.outputDirectory != nil || inputs.inputs.count == 1 else {
            throw CommandError("\(inputs.inputs.count) inputs\(channels == .each ? " (channels)" : ""): give --output-dir (each input's embeddings are written there)")
        }
        try OutputFile.checkDistinct(outputs: [output, timestamps].compactMap { $0 },
                                     inputs: inputs.inputs.map(\.path) + [weights, pcaPath].compactMap { $0 })
        precision.warnIfSlowHere()
        let embedder = try AudioEmbedder.load(model, weightsPath: weights, precision: precision, postprocess: postprocess,
                                              postprocessingPath: pcaPath)
        _ = try embedder.pipeline.hop(hop)  // a bad hop is the command's error, not each file's
        // A row's size, for a file with no examples: the embedding node's (postprocessing keeps it).
        let size = embedder.pipeline.network.shapes[embedder.node]!.reduce(1, *)
        try inputs.run(suffix: ".\(model).npy") { input, destination in
            let target = destination ?? output!
            let timesTarget = destination.map { ($0 as NSString).deletingPathExtension + ".times.npy" } ?? timestamps
            try OutputFile.checkDistinct(outputs: [target], inputs: [input.path])
            // Rows go to the file (or into the pooled row) as the stream is decoded: a long file is never held whole.
            let rows = pool == .none ? try NPYRowWriter(path: target, rowShape: [size]) : nil
            var pooled = pool == .none ? nil : AudioEmbedder.Pooled(pool, size: size)
            let times = try embedder.embed(stream: input.stream(sampleRate: embedder.pipeline.input.sampleRate), hopSeconds: hop) {
                try rows?.append($0.scalars)
                pooled?.add($0)
            }
            if let rows { try rows.finish() }
            if let pooled { try NPY.write(NPYArray(pooled.result), path: target) }
            if pool == .none, let timesTarget {
                try NPY.write(NPYArray(shape: [times.count], float32: times.map { Float($0) }), path: timesTarget)
            }
            return times.last ?? 0
        }
    }
}
