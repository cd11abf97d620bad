import AudioIO
import Models
import NetCore

/// What the pipeline gives for one signal: each example's time and the requested nodes' outputs, one row per example.
public struct AudioPipelineResult: Sendable {
    public let times: [Double]
    public let outputs: [String: Tensor]
    /// Seconds between examples.
    public let hopSeconds: Double
    /// Duration of the signal before any padding, in seconds.
    public let duration: Double
}

/// The one task pipeline for audio: read → resample to the network's rate → front end → batches → network →
/// outputs. `classify` (``SoundClassifier``), `pitch` (``PitchEstimator``) and `embed` (``AudioEmbedder``) all
/// run through it, configured by the network's descriptor (``NetworkDescriptor/audio``).
public final class AudioPipeline: Sendable {
    /// The catalog name or alias the pipeline was made for.
    public let name: String
    public let input: AudioInput
    /// The network, prepared for its precision.
    public let network: Network

    /// Runs `network` (prepared here: BatchNorm and activations folded, quantized at ``Precision/int8``) as `input` says.
    public init(name: String, input: AudioInput, network: Network, precision: Precision = .float32) {
        self.name = name
        self.input = input
        self.network = network.prepared(for: precision)
    }

    /// Runs `network`, built elsewhere (with weights of one's own), as the registry's audio network `name` is run.
    public convenience init(name: String, network: Network, precision: Precision = .float32) throws {
        self.init(name: name, input: try Self.input(name), network: network, precision: precision)
    }

    /// The audio network called `name` with its weights from `store` (or `weightsPath`), at `precision`.
    public static func load(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil,
                            precision: Precision = .float32) throws -> AudioPipeline {
        let input = try input(name)
        return AudioPipeline(name: name, input: input, network: try Networks.buildable(name).load!(name, store, weightsPath),
                             precision: precision)
    }

    /// The registry's audio input for `name`, or an error listing the audio networks.
    static func input(_ name: String) throws -> AudioInput {
        guard let input = try Networks.buildable(name).audio?(name) else {
            throw AudioNetError.invalidOption("'\(name)' is not an audio network (audio networks: \(Networks.audio.joined(separator: ", ")))")
        }
        return input
    }

    /// The seconds between examples: `hopSeconds` (else the network's default), checked: at least one sample, and
    /// a whole number of the front end's frames where it has them.
    public func hop(_ hopSeconds: Double?) throws -> Double {
        let seconds = hopSeconds ?? input.hop.defaultSeconds
        guard seconds.isFinite, seconds * Double(input.sampleRate) >= 1 else {
            throw AudioNetError.invalidOption("the hop must be at least one sample (1/\(input.sampleRate) s), not \(seconds) s")
        }
        if let step = input.hop.step, seconds < step || abs(seconds / step - (seconds / step).rounded()) > 1e-6 {
            throw AudioNetError.invalidOption("\(name)'s hop must be a whole number of its \(step) s frames, not \(seconds) s")
        }
        return seconds
    }

    /// Runs mono samples at ``AudioInput/sampleRate`` and returns the nodes `outputs` for every example.
    /// `progress` receives the fraction of examples done.
    public func run(samples: consuming [Float], outputs: [String], hopSeconds: Double? = nil,
                    progress: (@Sendable (Double) -> Void)? = nil) throws -> AudioPipelineResult {
        let hop = try hop(hopSeconds)
        let duration = Double(samples.count) / Double(input.sampleRate)
        return try run(examples: input.examples(samples, hop), outputs: outputs, hopSeconds: hop, duration: duration, progress: progress)
    }

    /// Runs examples already cut (by ``AudioInput/examples`` or otherwise), `hopSeconds` apart from a signal of
    /// `duration` seconds, and collects every output; a task that needs less of each example (pitch) goes through
    /// ``BatchRunner/forEachBatch(count:outputs:progress:makeBatch:_:)`` instead.
    public func run(examples: AudioExamples, outputs: [String], hopSeconds: Double, duration: Double,
                    progress: (@Sendable (Double) -> Void)? = nil) throws -> AudioPipelineResult {
        let runner = BatchRunner(network: network, batchSize: input.batchSize, batchesSideBySide: input.batchesSideBySide)
        let values = try runner.run(count: examples.count, outputs: outputs, progress: progress, makeBatch: examples.make)
        return AudioPipelineResult(times: examples.times, outputs: values, hopSeconds: hopSeconds, duration: duration)
    }

    /// Runs a stream read at ``AudioInput/sampleRate`` as it is decoded, handing each group of examples' outputs to
    /// `body(first, outputs)` in order, and returns each example's time and the signal's duration in seconds.
    /// Memory holds a group (a few batches per core) and the samples and frames the next example needs, whatever the
    /// stream's length; the outputs are bit for bit a whole-signal ``run(samples:outputs:hopSeconds:progress:)``'s.
    /// A network whose front end cannot cut examples from a stream reads the whole stream first. `live`
    /// runs the examples each block completes at once (a live input; batches are then smaller, so values may differ
    /// from a whole-signal run's in the last bits). `body` also receives the seconds of signal read so far.
    public func run(stream: some SampleStream, outputs: [String], hopSeconds: Double? = nil, live: Bool = false,
                    _ body: (_ outputs: [String: Tensor], _ secondsRead: Double) throws -> Void) throws -> (times: [Double], duration: Double) {
        guard stream.sampleRate == input.sampleRate else {
            throw AudioNetError.invalidOption("\(name) reads audio at \(input.sampleRate) Hz; the stream gives \(stream.sampleRate) Hz")
        }
        let hop = try hop(hopSeconds)
        guard var examples = input.exampleStream(hopSeconds: hop) else {
            var samples: [Float] = []
            while let block = try stream.readBlock() { samples += block }
            let result = try run(samples: samples, outputs: outputs, hopSeconds: hop)
            try body(result.outputs, result.duration)
            return (result.times, result.duration)
        }
        let runner = BatchRunner(network: network, batchSize: input.batchSize, batchesSideBySide: input.batchesSideBySide)
        // Whole batches only until the end, so that each batch holds the examples a whole-signal run gives it.
        let group = input.batchSize * max(1, Parallel.threadCount) * 2
        var pending: [Float] = [], exampleShape: [Int] = [], done = 0
        func runPending(all: Bool) throws {
            let size = exampleShape.reduce(1, *), count = size == 0 ? 0 : pending.count / size
            let taken = all || live ? count : count / group * group
            guard taken > 0 else { return }
            // Every pending example taken (each block of a live input, a file's last group) moves out whole; else the
            // group is copied and the examples after it move up.
            var scalars: [Float] = []
            if taken == count {
                swap(&scalars, &pending)
            } else {
                scalars = Array(pending[..<(taken * size)])
                pending.removeFirst(taken * size)
            }
            try body(runner.run(examples: Tensor(shape: [taken] + exampleShape, scalars: scalars), outputs: outputs),
                     Double(examples.signalLength) / Double(input.sampleRate))
            done += taken
        }
        func add(_ patches: Tensor) throws {
            guard patches.shape[0] > 0 else { return }
            exampleShape = Array(patches.shape.dropFirst())
            pending += patches.scalars
            try runPending(all: false)
        }
        while let block = try stream.readBlock() { try add(examples.append(block)) }
        try add(examples.finish())
        try runPending(all: true)
        return ((0..<done).map { examples.time(ofExample: $0) }, Double(examples.signalLength) / Double(input.sampleRate))
    }

    /// Decodes `path` (any format libsndfile reads), resamples it to the network's rate, mono, and runs it.
    public func run(file path: String, outputs: [String], hopSeconds: Double? = nil,
                    progress: (@Sendable (Double) -> Void)? = nil) throws -> AudioPipelineResult {
        try run(samples: try AudioFileReader.readMono(path: path, sampleRate: input.sampleRate).samples, outputs: outputs,
                hopSeconds: hopSeconds, progress: progress)
    }
}

extension Networks {
    /// Names of the audio networks, aliases included.
    public static var audio: [String] {
        all.filter { $0.audio != nil && $0.load != nil }.flatMap { [$0.name] + $0.aliases }
    }

    /// Names of the networks that give audio embeddings, aliases included.
    public static var audioEmbedding: [String] {
        all.filter { $0.load != nil }.flatMap { descriptor in
            ([descriptor.name] + descriptor.aliases).filter { descriptor.audio?($0).embeddings != nil }
        }
    }
}
