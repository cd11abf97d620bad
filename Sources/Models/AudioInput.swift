import DSP
import Formats
import NetCore

/// The examples one signal gives a network, made batch by batch so that a long file never holds all of them.
public struct AudioExamples: Sendable {
    /// Number of examples.
    public let count: Int
    /// Each example's time in seconds (its start, or its centre for centred framing).
    public let times: [Double]
    /// The input `[size, …]` of examples `first ..< first + size`.
    public let make: @Sendable (_ first: Int, _ size: Int) -> Tensor

    public init(count: Int, times: [Double], make: @escaping @Sendable (_ first: Int, _ size: Int) -> Tensor) {
        self.count = count
        self.times = times
        self.make = make
    }
}

/// An audio network's part in the task pipeline, declared in its descriptor: the rate it reads, how its front end
/// cuts examples, how they are batched, and which nodes give scores and embeddings.
public struct AudioInput: Sendable {
    /// Seconds between examples: set by the network, or chosen by the user with a default.
    public enum Hop: Sendable, Equatable {
        case fixed(seconds: Double)
        case adjustable(defaultSeconds: Double)
    }

    /// Mono samples per second the front end reads.
    public let sampleRate: Int
    public let hop: Hop
    /// Examples per network call.
    public let batchSize: Int
    /// Whether whole batches may run side by side, one per core (``BatchRunner``); off where one batch's
    /// activations are large.
    public let batchesSideBySide: Bool
    /// The node giving per-example scores (AudioSet classes, pitch bins), if any.
    public let scores: String?
    /// The node giving per-example embeddings, if any.
    public let embeddings: String?
    /// An optional step applied to embeddings (VGGish's PCA and quantization), with the file it reads.
    public let postprocessing: EmbeddingPostprocessing?
    /// Seconds from the start of the audio to the centre of the first example (half a window for examples cut
    /// from the start, 0 for examples centred on their times), so that example i is centred at this plus i hops.
    public let firstCentreSeconds: Double
    /// The front end: mono samples at ``sampleRate`` and the hop in seconds → the examples.
    public let examples: @Sendable (_ samples: consuming [Float], _ hopSeconds: Double) -> AudioExamples

    public init(sampleRate: Int, hop: Hop, batchSize: Int, batchesSideBySide: Bool = true, scores: String? = nil,
                embeddings: String? = nil, postprocessing: EmbeddingPostprocessing? = nil, firstCentreSeconds: Double,
                examples: @escaping @Sendable (_ samples: consuming [Float], _ hopSeconds: Double) -> AudioExamples) {
        self.sampleRate = sampleRate
        self.hop = hop
        self.batchSize = batchSize
        self.batchesSideBySide = batchesSideBySide
        self.scores = scores
        self.embeddings = embeddings
        self.postprocessing = postprocessing
        self.firstCentreSeconds = firstCentreSeconds
        self.examples = examples
    }

    /// A log-mel network (YAMNet, VGGish): the front end's padding and frames for the whole signal, then patches
    /// cut from the frames batch by batch, one every `patchHop` frames.
    public static func logMel(_ frontEnd: LogMelFrontEnd, batchSize: Int, scores: String? = nil, embeddings: String?,
                              postprocessing: EmbeddingPostprocessing? = nil) -> AudioInput {
        let hopSeconds = Double(frontEnd.patchHop * frontEnd.hopLength) / Double(frontEnd.sampleRate)
        let windowSeconds = Double(frontEnd.patchFrames * frontEnd.hopLength) / Double(frontEnd.sampleRate)
        return AudioInput(sampleRate: frontEnd.sampleRate, hop: .fixed(seconds: hopSeconds), batchSize: batchSize,
                          scores: scores, embeddings: embeddings, postprocessing: postprocessing,
                          firstCentreSeconds: windowSeconds / 2) { samples, _ in
            var padded = samples  // the caller's last use: padded in place, not copied
            frontEnd.pad(&padded)
            let frames = frontEnd.logMel(padded)
            let count = frontEnd.patchCount(frames: frames.shape[0])
            return AudioExamples(count: count, times: (0..<count).map { Double($0) * hopSeconds }) { first, size in
                frontEnd.patches(frames, first: first, count: size)
            }
        }
    }
}

/// A step applied to a network's embeddings after the network, with the parameter file it reads.
public struct EmbeddingPostprocessing: Sendable {
    /// The parameter file, looked up in the weight store unless a path is given.
    public let file: WeightFile
    /// The step, from the parameter file at a path.
    public let load: @Sendable (_ path: String) throws -> @Sendable (Tensor) -> Tensor

    public init(file: WeightFile, load: @escaping @Sendable (_ path: String) throws -> @Sendable (Tensor) -> Tensor) {
        self.file = file
        self.load = load
    }
}
