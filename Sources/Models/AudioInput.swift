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

/// Examples that are windows of the signal (CREPE's frames, OpenL3's 1 s windows): window i reads `length` samples
/// from i hops − `leftPadding` on, zeros outside the signal, and stands at i hops. A stream's windows can be cut as
/// its samples arrive.
public struct SignalWindows: Sendable {
    public let length: Int
    public let leftPadding: Int
    /// The windows `hop` samples apart that a signal of `sampleCount` samples gives.
    public let count: @Sendable (_ sampleCount: Int, _ hop: Int) -> Int
    /// Windows `first ..< first + count` `[count, …]`, from `samples` that start at the signal's sample `offset`.
    public let make: @Sendable (_ samples: [Float], _ offset: Int, _ hop: Int, _ first: Int, _ count: Int) -> Tensor

    public init(length: Int, leftPadding: Int, count: @escaping @Sendable (_ sampleCount: Int, _ hop: Int) -> Int,
                make: @escaping @Sendable (_ samples: [Float], _ offset: Int, _ hop: Int, _ first: Int, _ count: Int) -> Tensor) {
        self.length = length
        self.leftPadding = leftPadding
        self.count = count
        self.make = make
    }

    /// The windows that have every sample they read among the first `received` samples of a signal.
    public func complete(received: Int, hop: Int) -> Int {
        received + leftPadding >= length ? (received + leftPadding - length) / hop + 1 : 0
    }

    /// The samples a signal needs for its first `windows` windows to be complete: the inverse of
    /// ``complete(received:hop:)``.
    public func received(forComplete windows: Int, hop: Int) -> Int {
        windows > 0 ? (windows - 1) * hop - leftPadding + length : 0
    }
}

/// The windows of a signal given a block at a time: each as soon as the samples it reads have arrived, the last ones
/// (reading past the end) once it has ended; only the samples the windows not yet made read are kept (the ones before
/// dropped once they are half of those kept, so that a signal given whole is not shifted at every step). A task that
/// cuts the windows itself, batch by batch (`pitch`), reads them from ``samples`` with ``receive(_:)`` and
/// ``advance(to:)``.
public struct WindowStream: ExampleStream {
    public let windows: SignalWindows
    public let hop: Int, sampleRate: Int
    public private(set) var signalLength = 0
    /// The signal from sample ``offset`` on.
    public private(set) var samples: [Float] = []
    public private(set) var offset = 0
    /// Windows made (or passed over by ``advance(to:)``) so far.
    public private(set) var made = 0

    public init(_ windows: SignalWindows, hop: Int, sampleRate: Int) {
        self.windows = windows
        self.hop = hop
        self.sampleRate = sampleRate
    }

    public mutating func append(_ block: [Float]) -> Tensor {
        receive(block)
        return cut(upTo: complete)
    }

    public mutating func finish() -> Tensor { cut(upTo: total) }

    public func time(ofExample index: Int) -> Double { Double(index * hop) / Double(sampleRate) }

    /// Takes the next samples without making windows.
    public mutating func receive(_ block: [Float]) {
        if samples.isEmpty { samples = block } else { samples += block }
        signalLength += block.count
    }

    /// The windows every sample of which has arrived.
    public var complete: Int { windows.complete(received: signalLength, hop: hop) }

    /// The windows of the whole signal, once it has ended.
    public var total: Int { windows.count(signalLength, hop) }

    /// Counts the windows before `end` as made, and drops the samples before the next one's first.
    public mutating func advance(to end: Int) {
        made = end
        let consumed = min(samples.count, max(0, end * hop - windows.leftPadding - offset))
        if consumed > samples.count / 2 {
            samples.removeFirst(consumed)
            offset += consumed
        }
    }

    /// Windows `made ..< end`.
    private mutating func cut(upTo end: Int) -> Tensor {
        guard end > made else { return Tensor(shape: [0], scalars: []) }
        let cut = windows.make(samples, offset, hop, made, end - made)
        advance(to: end)
        return cut
    }
}

/// An audio network's part in the task pipeline, declared in its descriptor: the rate it reads, how its front end
/// cuts examples, how they are batched, and which nodes give scores and embeddings.
public struct AudioInput: Sendable {
    /// Seconds between examples: chosen by the user, by default `defaultSeconds`; a whole number of `step`s when the
    /// front end has one (a log-mel network's patches start on its 10 ms frames).
    public struct Hop: Sendable, Equatable {
        public let defaultSeconds: Double
        public let step: Double?

        public init(defaultSeconds: Double, step: Double? = nil) {
            self.defaultSeconds = defaultSeconds
            self.step = step
        }
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
    /// The log-mel front end the examples are patches of (YAMNet, VGGish), which can also cut them from a stream.
    public let logMelFrontEnd: LogMelFrontEnd?
    /// The windows the examples are (CREPE, OpenL3), which can also be cut from a stream.
    public let windows: SignalWindows?

    public init(sampleRate: Int, hop: Hop, batchSize: Int, batchesSideBySide: Bool = true, scores: String? = nil,
                embeddings: String? = nil, postprocessing: EmbeddingPostprocessing? = nil, firstCentreSeconds: Double,
                logMelFrontEnd: LogMelFrontEnd? = nil, windows: SignalWindows? = nil,
                examples: @escaping @Sendable (_ samples: consuming [Float], _ hopSeconds: Double) -> AudioExamples) {
        self.sampleRate = sampleRate
        self.hop = hop
        self.batchSize = batchSize
        self.batchesSideBySide = batchesSideBySide
        self.scores = scores
        self.embeddings = embeddings
        self.postprocessing = postprocessing
        self.firstCentreSeconds = firstCentreSeconds
        self.logMelFrontEnd = logMelFrontEnd
        self.windows = windows
        self.examples = examples
    }

    /// A network whose examples are `windows` of the signal, a window every hop (in whole samples), at its time.
    public static func windowed(_ windows: SignalWindows, sampleRate: Int, hop: Hop, batchSize: Int, batchesSideBySide: Bool,
                                scores: String? = nil, embeddings: String?) -> AudioInput {
        AudioInput(sampleRate: sampleRate, hop: hop, batchSize: batchSize, batchesSideBySide: batchesSideBySide, scores: scores,
                   embeddings: embeddings, firstCentreSeconds: 0, windows: windows) { samples, hopSeconds in
            let hop = windowHop(hopSeconds, sampleRate: sampleRate), count = windows.count(samples.count, hop)
            return AudioExamples(count: count, times: (0..<count).map { Double($0 * hop) / Double(sampleRate) }) { [samples] first, size in
                windows.make(samples, 0, hop, first, size)
            }
        }
    }

    /// A hop in whole samples (marl/crepe's and torchopenl3's truncation).
    public static func windowHop(_ hopSeconds: Double, sampleRate: Int) -> Int { Int(hopSeconds * Double(sampleRate)) }

    /// The examples of a signal given a block at a time, `hopSeconds` apart, when the front end can cut them so
    /// (log-mel patches and windows): bit for bit the examples of the whole signal.
    public func exampleStream(hopSeconds: Double) -> (any ExampleStream)? {
        if let logMelFrontEnd { return LogMelPatchStream(Self.patching(logMelFrontEnd, hopSeconds: hopSeconds)) }
        return windows.map { WindowStream($0, hop: Self.windowHop(hopSeconds, sampleRate: sampleRate), sampleRate: sampleRate) }
    }

    /// `frontEnd` cutting a patch every `hopSeconds`, in whole frames (yamnet's `patch_hop_seconds`).
    static func patching(_ frontEnd: LogMelFrontEnd, hopSeconds: Double) -> LogMelFrontEnd {
        let frameSeconds = Double(frontEnd.hopLength) / Double(frontEnd.sampleRate)
        return frontEnd.withPatchHop(max(1, Int((hopSeconds / frameSeconds).rounded())))
    }

    /// A log-mel network (YAMNet, VGGish): the front end's padding and frames for the whole signal, then patches
    /// cut from the frames batch by batch, one every `patchHop` frames — or every hop the user sets, in whole frames
    /// (yamnet's `patch_hop_seconds`).
    public static func logMel(_ frontEnd: LogMelFrontEnd, batchSize: Int, scores: String? = nil, embeddings: String?,
                              postprocessing: EmbeddingPostprocessing? = nil) -> AudioInput {
        let frameSeconds = Double(frontEnd.hopLength) / Double(frontEnd.sampleRate)
        let windowSeconds = Double(frontEnd.patchFrames) * frameSeconds
        return AudioInput(sampleRate: frontEnd.sampleRate, hop: Hop(defaultSeconds: Double(frontEnd.patchHop) * frameSeconds, step: frameSeconds),
                          batchSize: batchSize, scores: scores, embeddings: embeddings, postprocessing: postprocessing,
                          firstCentreSeconds: windowSeconds / 2, logMelFrontEnd: frontEnd) { samples, hopSeconds in
            let patching = patching(frontEnd, hopSeconds: hopSeconds)
            let frames = patching.logMel(samples)
            let count = patching.patchCount(frames: frames.shape[0])
            let hop = Double(patching.patchHop) * frameSeconds
            return AudioExamples(count: count, times: (0..<count).map { Double($0) * hop }) { first, size in
                patching.patches(frames, first: first, count: size)
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
