import Foundation
import AudioIO
import DSP
import Formats
import Models
import NetCore

/// A pitch track: one row per frame.
public struct PitchTrack: Sendable {
    /// Frame centres in seconds.
    public let times: [Double]
    /// Frequencies in Hz: NaN where the frame is unvoiced (below the voicing threshold), 0 where the activation
    /// around the decoded bin is all zero.
    public let frequencies: [Double]
    /// Confidence: the activation of the frame's decoded bin (its largest within the frequency range), after the
    /// silence gate and median filter.
    public let confidences: [Float]
    /// The bin (0…359, 20 cents apart) each frame was decoded to.
    public let bins: [Int]
    /// Raw activations `[N, 360]` when asked for (``PitchEstimator/estimate(samples:stepMilliseconds:centered:decoding:activations:embedding:progress:)``
    /// keeps them only then: 86 MB for 10 minutes).
    public let activation: Tensor?
    /// torchcrepe's pitch embedding `[N, 8 × channels]` when asked for: the fifth block's output per frame, its 8
    /// time steps one after another (torchcrepe lays the same values out channel by channel).
    public let embedding: Tensor?
}

/// How CREPE's activations become a pitch track: marl/crepe's decoders and torchcrepe's voicing tools.
public struct PitchDecoding: Sendable {
    public enum Decoder: String, Sendable, CaseIterable {
        /// The bin of the largest activation (torchcrepe's `argmax`).
        case argmax
        /// The activation-weighted average of the nine bins around it (marl/crepe's default).
        case weighted
        /// The weighted average around a Viterbi path through the bins (marl/crepe's `viterbi=True`).
        case viterbi
    }

    public var decoder: Decoder
    /// Frequencies considered, in Hz (torchcrepe's fmin/fmax: the bins outside are masked before decoding).
    public var minimumFrequency: Double?
    public var maximumFrequency: Double?
    /// Frames whose confidence is below this are unvoiced: frequency NaN (torchcrepe's `threshold.At`).
    public var voicingThreshold: Float?
    /// Voicing by two thresholds instead (torchcrepe's `threshold.Hysteresis`): a voiced run needs one frame above
    /// `upper`, its other frames above `lower` — more above it the farther their pitch is from the file's mean.
    public var hysteresis: Hysteresis?
    /// Frames whose level (RMS of the 1024-sample frame, dBFS) is below this get confidence 0, so a voicing
    /// threshold makes them unvoiced.
    public var silenceDecibels: Double?
    /// Median filter window in frames (odd), on confidence before the threshold and on pitch after it, NaN-aware
    /// (torchcrepe's `filter.median`).
    public var medianWindow: Int?

    /// torchcrepe's hysteresis thresholds (its defaults: 0.19 and 0.31).
    public struct Hysteresis: Sendable, Equatable {
        public var lower: Double
        public var upper: Double

        public init(lower: Double = 0.19, upper: Double = 0.31) {
            self.lower = lower
            self.upper = upper
        }
    }

    public init(decoder: Decoder = .weighted, minimumFrequency: Double? = nil, maximumFrequency: Double? = nil, voicingThreshold: Float? = nil,
                hysteresis: Hysteresis? = nil, silenceDecibels: Double? = nil, medianWindow: Int? = nil) {
        self.decoder = decoder
        self.minimumFrequency = minimumFrequency
        self.maximumFrequency = maximumFrequency
        self.voicingThreshold = voicingThreshold
        self.hysteresis = hysteresis
        self.silenceDecibels = silenceDecibels
        self.medianWindow = medianWindow
    }

    /// Whether each frame is decoded from its own activations alone, so a track can be written as it is made:
    /// Viterbi, hysteresis (the file's mean pitch) and the median filter (the frames around) need the whole track.
    public var isFrameLocal: Bool { decoder != .viterbi && hysteresis == nil && medianWindow == nil }

    /// The bins decoding may choose; an error when the range holds none.
    func bins() throws -> Range<Int> {
        let range = CREPE.bins(from: minimumFrequency, to: maximumFrequency)
        guard !range.isEmpty else {
            throw AudioNetError.invalidOption("no CREPE bin lies between \(minimumFrequency ?? 0) and \(maximumFrequency ?? 0) Hz (CREPE covers 31.7–2006 Hz)")
        }
        return range
    }
}

/// Pitch estimation with CREPE (MATLAB's `pitchnn`), on the original Keras weights.
public final class PitchEstimator: Sendable {
    public let capacity: CREPE.Capacity
    /// CREPE's task pipeline: normalised 1024-sample frames in batches, the network, its 360 activations.
    public let pipeline: AudioPipeline

    /// The network, ready to run.
    public var network: Network { pipeline.network }

    public init(capacity: CREPE.Capacity, network: Network) {
        self.capacity = capacity
        pipeline = AudioPipeline(name: capacity.modelName, input: capacity.descriptor.audio!(capacity.modelName), network: network)
    }

    /// CREPE of `capacity` with its weights from `store` (or `weightsPath`).
    public static func crepe(_ capacity: CREPE.Capacity, store: WeightStore = .fromEnvironment(),
                             weightsPath: String? = nil) throws -> PitchEstimator {
        PitchEstimator(capacity: capacity, network: try CREPE.network(capacity, store: store, weightsPath: weightsPath))
    }

    /// Activations `[N, 360]` of normalised frames `[N, 1024]`, computed in batches.
    public func activations(frames: Tensor) throws -> Tensor { try output(network.outputName, frames: frames) }

    /// torchcrepe's pitch embedding `[N, 8 × channels]` of normalised frames `[N, 1024]` (see ``PitchTrack/embedding``).
    public func embedding(frames: Tensor) throws -> Tensor {
        let output = try output(CREPE.embeddingNode, frames: frames)
        return output.reshaped([frames.shape[0], output.count / max(frames.shape[0], 1)])
    }

    /// Node `node`'s output for normalised frames, computed in batches.
    private func output(_ node: String, frames: Tensor) throws -> Tensor {
        let input = pipeline.input
        return try BatchRunner(network: network, batchSize: input.batchSize, batchesSideBySide: input.batchesSideBySide)
            .run(examples: frames, outputs: [node])[node]!
    }

    /// Pitch of 16 kHz mono samples every `stepMilliseconds`, decoded as `decoding` says. Frames are centred on
    /// their times (marl/crepe's `center=True`), or start there when `centered` is false (times are still their
    /// centres). The argmax and weighted decoders decode each batch as it comes, so a long file's activations are
    /// not all held; Viterbi needs them all. With `activations` or `embedding` the track holds the raw activations or
    /// torchcrepe's pitch embedding too. `progress` receives the fraction done.
    public func estimate(samples: consuming [Float], stepMilliseconds: Double = 10, centered: Bool = true,
                         decoding: PitchDecoding = PitchDecoding(), activations: Bool = false, embedding: Bool = false,
                         progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        let count = samples.count
        var whole: [Float]? = consume samples
        var parts: [PitchTrack] = []
        try estimate(announcedSampleCount: count, readBlock: { defer { whole = nil }; return whole },
                     stepMilliseconds: stepMilliseconds, centered: centered, decoding: decoding, activations: activations,
                     embedding: embedding, live: false, progress: progress) { parts.append($0) }
        return PitchTrack(joining: parts)
    }

    /// The same as ``estimate(samples:stepMilliseconds:centered:decoding:activations:embedding:progress:)`` on a
    /// stream read at 16 kHz, consumed as it is decoded: memory holds about 30 seconds of it, whatever its length.
    public func estimate(stream: some SampleStream, stepMilliseconds: Double = 10, centered: Bool = true,
                         decoding: PitchDecoding = PitchDecoding(), activations: Bool = false, embedding: Bool = false,
                         progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        var parts: [PitchTrack] = []
        try estimate(stream: stream, stepMilliseconds: stepMilliseconds, centered: centered, decoding: decoding,
                     activations: activations, embedding: embedding, progress: progress) { parts.append($0) }
        return PitchTrack(joining: parts)
    }

    /// The track of a stream read at 16 kHz handed to `part` piece by piece as its frames are finished, so that
    /// neither the signal nor the track is held: pieces of about 30 seconds, or with `live` every frame as soon as
    /// the samples it reads have arrived (a live input: the latency is one block of the stream and the network's
    /// time; a live batch holds the frames that have arrived, so values agree with a file's within float rounding,
    /// where otherwise they are the same to the bit). A decoding that needs the whole track (``PitchDecoding/isFrameLocal`` false:
    /// Viterbi, hysteresis, the median filter) or `activations`/`embedding` hands it over as one piece at the end.
    public func estimate(stream: some SampleStream, stepMilliseconds: Double = 10, centered: Bool = true,
                         decoding: PitchDecoding = PitchDecoding(), activations: Bool = false, embedding: Bool = false,
                         live: Bool = false, progress: (@Sendable (Double) -> Void)? = nil,
                         _ part: (PitchTrack) throws -> Void) throws {
        guard stream.sampleRate == CREPE.sampleRate else {
            throw AudioNetError.invalidOption("CREPE reads audio at \(CREPE.sampleRate) Hz; the stream gives \(stream.sampleRate) Hz")
        }
        try estimate(announcedSampleCount: stream.announcedSampleCount, readBlock: stream.readBlock,
                     stepMilliseconds: stepMilliseconds, centered: centered, decoding: decoding,
                     activations: activations, embedding: embedding, live: live, progress: progress, part)
    }

    /// Signal samples read ahead per chunk of frames: 2^19, about 33 s at 16 kHz.
    static let chunkSamples = 1 << 19

    /// The pitch of a signal read block by block, in chunks of whole batches: each chunk's frames are cut, batch by
    /// batch, from the samples a ``WindowStream`` keeps once every sample they read has arrived (or the signal has
    /// ended), and the samples no later frame reads are dropped. The batches are the ones a whole-signal run makes, so
    /// the track is the same to the bit whatever the blocks. A frame-local decoding hands each chunk's frames to `part` as they are finished;
    /// `live` makes a chunk of the frames ready after each block.
    private func estimate(announcedSampleCount: Int, readBlock: () throws -> [Float]?, stepMilliseconds: Double,
                          centered: Bool, decoding: PitchDecoding, activations: Bool, embedding: Bool, live: Bool,
                          progress: (@Sendable (Double) -> Void)?, _ part: (PitchTrack) throws -> Void) throws {
        let hop = Int(Double(CREPE.sampleRate) * stepMilliseconds / 1000)
        guard hop >= 1 else { throw AudioNetError.invalidOption("--step-ms must give at least one sample per hop") }
        let allowed = try decoding.bins()
        let activationNode = network.outputName, input = pipeline.input
        let inPieces = decoding.isFrameLocal && !activations && !embedding
        let frames = FrameOutputs(decoding: decoding.decoder == .viterbi ? nil : decoding, allowed: allowed,
                                  keeping: (activations || decoding.decoder == .viterbi ? [activationNode] : [])
                                      + (embedding ? [CREPE.embeddingNode] : []),
                                  sizes: [activationNode: CREPE.binCount,
                                          CREPE.embeddingNode: network.shapes[CREPE.embeddingNode]!.reduce(1, *)])
        let runner = BatchRunner(network: network, batchSize: input.batchSize, batchesSideBySide: input.batchesSideBySide)
        var stream = WindowStream(CREPE.windows(centered: centered), hop: hop, sampleRate: CREPE.sampleRate)
        let chunkFrames = input.batchSize * max(1, Self.chunkSamples / (hop * input.batchSize))
        let expectedFrames = Double(max(1, CREPE.frameCount(sampleCount: announcedSampleCount, hop: hop, center: centered)))
        var ended = false, levels: [Double] = []
        repeat {
            let done = stream.made
            // The samples of the chunk's frames (of the next frame when live).
            let end = stream.windows.received(forComplete: live ? done + 1 : done + chunkFrames, hop: hop)
            while !ended && stream.signalLength < end {
                guard let block = try readBlock() else { ended = true; break }
                stream.receive(block)
                if live { break }
            }
            let count = ended ? stream.total - done : live ? min(chunkFrames, stream.complete - done) : chunkFrames
            guard count > 0 else { if ended { break } else { continue } }
            frames.grow(to: done + count)
            if decoding.silenceDecibels != nil {
                levels += Self.frameLevels(stream.samples, offset: stream.offset, hop: hop, centered: centered, frames: done..<done + count)
            }
            try run(frames: done..<done + count, of: stream, runner: runner,
                    outputs: [activationNode] + (embedding ? [CREPE.embeddingNode] : []), into: frames,
                    progress: progress.map { report in { @Sendable framesDone in report(min(1, framesDone / expectedFrames)) } })
            if inPieces {
                try part(finish(frames.takeDecoded(), first: done, hop: hop, centered: centered, decoding: decoding,
                                levels: decoding.silenceDecibels == nil ? nil : levels, activation: nil, embedding: nil))
                levels.removeAll(keepingCapacity: true)
            }
            stream.advance(to: done + count)
            AllocatorPolicy.releaseFreed()
        } while !ended
        guard !inPieces else { return }
        let activation = frames.kept(activationNode)
        let decoded = decoding.decoder == .viterbi ? Self.decoded(activation!, decoder: .viterbi, allowed: allowed) : frames.takeDecoded()
        try part(finish(decoded, first: 0, hop: hop, centered: centered, decoding: decoding,
                        levels: decoding.silenceDecibels == nil ? nil : levels, activation: activations ? activation : nil,
                        embedding: frames.kept(CREPE.embeddingNode)))
    }

    /// Runs `range`'s frames, cut from the samples `stream` keeps, through `runner` and records each batch in `frames`;
    /// `progress` receives the number of frames done.
    private func run(frames range: Range<Int>, of stream: WindowStream, runner: BatchRunner, outputs: [String], into frames: FrameOutputs,
                     progress: (@Sendable (Double) -> Void)?) throws {
        let first = range.lowerBound, count = Double(range.count), activationNode = network.outputName
        let (windows, samples, offset, hop) = (stream.windows, stream.samples, stream.offset, stream.hop)
        try runner.forEachBatch(count: range.count, outputs: outputs,
                                progress: progress.map { report in { @Sendable fraction in report(Double(first) + fraction * count) } },
                                makeBatch: { batchFirst, size in windows.make(samples, offset, hop, first + batchFirst, size) }) { batchFirst, outputs in
            frames.record(first: first + batchFirst, activation: outputs[activationNode]!, outputs: outputs)
        }
    }

    /// The level in dBFS (RMS) of the 1024-sample `frames` `hop` samples apart, as CREPE frames them, from `samples`
    /// that start at sample `offset` of the signal.
    static func frameLevels(_ samples: [Float], offset: Int = 0, hop: Int, centered: Bool = true, frames: Range<Int>) -> [Double] {
        let half = centered ? CREPE.frameLength / 2 : 0
        return frames.map { frame in
            let start = frame * hop - half - offset
            var energy = 0.0
            for index in max(0, start)..<min(samples.count, start + CREPE.frameLength) { energy += Double(samples[index]) * Double(samples[index]) }
            return 10 * log10(energy / Double(CREPE.frameLength))
        }
    }

    /// Turns activations `[N, 360]` of frames `hop` samples apart into a pitch track: the decoder within the
    /// frequency range, confidence = the decoded bin's activation, then the silence gate (`levels`: each frame's
    /// dBFS), the median filter on confidence, the voicing threshold and the median filter on pitch.
    public func decode(_ activation: Tensor, hop: Int, decoding: PitchDecoding = PitchDecoding(), levels: [Double]? = nil,
                       embedding: Tensor? = nil) throws -> PitchTrack {
        finish(Self.decoded(activation, decoder: decoding.decoder, allowed: try decoding.bins()), hop: hop, decoding: decoding,
               levels: levels, activation: activation, embedding: embedding)
    }

    /// Every frame of activations `[N, 360]` decoded (Viterbi's path first, through all of them).
    static func decoded(_ activation: Tensor, decoder: PitchDecoding.Decoder, allowed: Range<Int>) -> DecodedFrames {
        let count = activation.shape[0], values = activation.scalars
        let path = decoder == .viterbi ? CREPE.viterbiPath(values, frames: count, allowed: allowed) : nil
        var decoded = DecodedFrames(count: count)
        for frame in 0..<count {
            decoded.set(frame, decodeFrame(values[frame * CREPE.binCount..<(frame + 1) * CREPE.binCount], bin: path?[frame],
                                           decoder: decoder, allowed: allowed))
        }
        return decoded
    }

    /// One frame's 360 activations decoded: the bin (`bin`, or the largest within `allowed`), its activation as the
    /// confidence, and the frequency (the bin's, or the weighted average around it; 0 where that is undefined).
    static func decodeFrame(_ row: ArraySlice<Float>, bin: Int?, decoder: PitchDecoding.Decoder,
                            allowed: Range<Int>) -> (bin: Int, confidence: Double, frequency: Double) {
        let bin = bin ?? CREPE.argmax(row, allowed: allowed)
        let cents = decoder == .argmax ? CREPE.cents(ofBin: bin) : CREPE.localAverageCents(row, center: bin, allowed: allowed)
        let frequency = CREPE.frequency(cents: cents)
        return (bin, Double(row[row.startIndex + bin]), frequency.isFinite ? frequency : 0)
    }

    /// The track of decoded frames from frame `first` on (`levels`: theirs): the silence gate, the median filter on
    /// confidence, the voicing threshold (or hysteresis) and the median filter on pitch.
    private func finish(_ decoded: DecodedFrames, first: Int = 0, hop: Int, centered: Bool = true, decoding: PitchDecoding,
                        levels: [Double]?, activation: Tensor?, embedding: Tensor?) -> PitchTrack {
        let count = decoded.bins.count
        var frequencies = decoded.frequencies, confidences = decoded.confidences
        if let floor = decoding.silenceDecibels, let levels {
            for frame in 0..<min(count, levels.count) where levels[frame] < floor { confidences[frame] = 0 }
        }
        if let window = decoding.medianWindow { confidences = CREPE.medianFiltered(confidences, window: window) }
        if let threshold = decoding.voicingThreshold {
            for frame in 0..<count where confidences[frame] < Double(threshold) { frequencies[frame] = .nan }
        }
        if let hysteresis = decoding.hysteresis {
            let voiced = CREPE.hysteresisVoiced(frequencies: frequencies, confidences: confidences, lower: hysteresis.lower, upper: hysteresis.upper)
            for frame in 0..<count where !voiced[frame] { frequencies[frame] = .nan }
        }
        if let window = decoding.medianWindow { frequencies = CREPE.medianFiltered(frequencies, window: window) }
        let times = (first..<first + count).map { CREPE.frameTime($0, hop: hop, center: centered) }
        return PitchTrack(times: times, frequencies: frequencies, confidences: confidences.map { Float($0) }, bins: decoded.bins,
                          activation: activation, embedding: embedding.map { $0.reshaped([count, $0.count / max(count, 1)]) })
    }

    /// Decodes `path`, resampled to 16 kHz mono, and estimates its pitch as it is read.
    public func estimate(file path: String, stepMilliseconds: Double = 10, centered: Bool = true, decoding: PitchDecoding = PitchDecoding(),
                         activations: Bool = false, embedding: Bool = false, progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        try estimate(stream: try AudioFileStream(opening: path, sampleRate: CREPE.sampleRate), stepMilliseconds: stepMilliseconds,
                     centered: centered, decoding: decoding, activations: activations, embedding: embedding, progress: progress)
    }
}

extension PitchTrack {
    /// The pieces of a track one after another (their activations and embeddings when there is one piece).
    init(joining parts: [PitchTrack]) {
        guard parts.count != 1 else {
            self = parts[0]
            return
        }
        self.init(times: parts.flatMap(\.times), frequencies: parts.flatMap(\.frequencies),
                  confidences: parts.flatMap(\.confidences), bins: parts.flatMap(\.bins), activation: nil, embedding: nil)
    }
}

/// Each frame's decoded bin, confidence and frequency.
struct DecodedFrames {
    var bins: [Int], confidences: [Double], frequencies: [Double]

    init(count: Int) {
        bins = Array(repeating: 0, count: count)
        confidences = Array(repeating: 0, count: count)
        frequencies = Array(repeating: 0, count: count)
    }

    /// Adds frames up to `count`, zero until set.
    mutating func grow(to count: Int) {
        let added = count - bins.count
        bins += repeatElement(0, count: added)
        confidences += repeatElement(0, count: added)
        frequencies += repeatElement(0, count: added)
    }

    mutating func set(_ frame: Int, _ value: (bin: Int, confidence: Double, frequency: Double)) {
        (bins[frame], confidences[frame], frequencies[frame]) = value
    }
}

/// What a pitch run keeps of each batch as it finishes: the frames decoded (unless the decoder needs every frame
/// first) and the outputs asked for, row by row. Batches side by side record one at a time.
private final class FrameOutputs: @unchecked Sendable {
    private let lock = NSLock()
    private let decoding: PitchDecoding?, allowed: Range<Int>, sizes: [String: Int]
    private var decoded: DecodedFrames
    /// The frame `decoded` starts at (the frames before were taken).
    private var base = 0
    private var rows: [String: [Float]]

    /// Frames decoded as `decoding` says when it is given; the outputs of nodes `keeping` (of `sizes` values a frame)
    /// kept. ``grow(to:)`` makes room for each chunk's frames.
    init(decoding: PitchDecoding?, allowed: Range<Int>, keeping: [String], sizes: [String: Int]) {
        self.decoding = decoding
        self.allowed = allowed
        self.sizes = sizes
        decoded = DecodedFrames(count: 0)
        rows = Dictionary(uniqueKeysWithValues: keeping.map { ($0, []) })
    }

    /// Makes room for frames up to `count` (between chunks, when no batch is recording).
    func grow(to count: Int) {
        if decoding != nil { decoded.grow(to: count - base) }
        for node in rows.keys { rows[node]! += repeatElement(0, count: count * sizes[node]! - rows[node]!.count) }
    }

    /// Records the batch of frames from `first` on: its `activation` rows decoded, its kept outputs copied.
    func record(first: Int, activation: Tensor, outputs: [String: Tensor]) {
        lock.withLock {
            if let decoding {
                let values = activation.scalars
                for local in 0..<activation.shape[0] {
                    let row = values[local * CREPE.binCount..<(local + 1) * CREPE.binCount]
                    decoded.set(first + local - base, PitchEstimator.decodeFrame(row, bin: nil, decoder: decoding.decoder, allowed: allowed))
                }
            }
            for (node, output) in outputs where rows[node] != nil {
                rows[node]!.replaceSubrange(first * sizes[node]!..<first * sizes[node]! + output.count, with: output.scalars)
            }
        }
    }

    /// The frames decoded since the last time they were taken.
    func takeDecoded() -> DecodedFrames {
        defer {
            base += decoded.bins.count
            decoded = DecodedFrames(count: 0)
        }
        return decoded
    }

    /// The rows kept of `node`, `[count, size]`, or nil when it was not kept.
    func kept(_ node: String) -> Tensor? {
        rows[node].map { Tensor(shape: [$0.count / sizes[node]!, sizes[node]!], scalars: $0) }
    }
}
