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
    /// Raw activations `[N, 360]`.
    public let activation: Tensor
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
    /// centres). With `embedding` the track holds torchcrepe's pitch embedding too. `progress` receives the fraction done.
    public func estimate(samples: consuming [Float], stepMilliseconds: Double = 10, centered: Bool = true,
                         decoding: PitchDecoding = PitchDecoding(), embedding: Bool = false,
                         progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        let hop = Int(Double(CREPE.sampleRate) * stepMilliseconds / 1000)
        guard hop >= 1 else { throw AudioNetError.invalidOption("--step-ms must give at least one sample per hop") }
        let levels = decoding.silenceDecibels == nil ? nil : Self.frameLevels(samples, hop: hop, centered: centered)
        let duration = Double(samples.count) / Double(CREPE.sampleRate)
        let outputs = [network.outputName] + (embedding ? [CREPE.embeddingNode] : [])
        let result = try pipeline.run(examples: CREPE.examples(samples, hop: hop, center: centered), outputs: outputs,
                                      hopSeconds: Double(hop) / Double(CREPE.sampleRate), duration: duration, progress: progress)
        let track = try decode(result.outputs[network.outputName]!, hop: hop, decoding: decoding, levels: levels,
                               embedding: result.outputs[CREPE.embeddingNode])
        return track.retimed(result.times)  // the frames' centres, also when they are not centred on hops
    }

    /// The level in dBFS (RMS) of each 1024-sample frame `hop` samples apart, as CREPE frames them.
    static func frameLevels(_ samples: [Float], hop: Int, centered: Bool = true) -> [Double] {
        let count = CREPE.frameCount(sampleCount: samples.count, hop: hop, center: centered), half = centered ? CREPE.frameLength / 2 : 0
        return (0..<count).map { frame in
            let start = frame * hop - half
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
        let bins = CREPE.binCount, count = activation.shape[0], allowed = try decoding.bins()
        let values = activation.scalars
        let path = decoding.decoder == .viterbi ? CREPE.viterbiPath(values, frames: count, allowed: allowed) : nil
        var frequencies: [Double] = [], confidences: [Double] = [], decoded: [Int] = []
        for frame in 0..<count {
            let row = values[frame * bins..<(frame + 1) * bins]
            let bin = path?[frame] ?? CREPE.argmax(row, allowed: allowed)
            decoded.append(bin)
            confidences.append(Double(row[row.startIndex + bin]))
            let cents = decoding.decoder == .argmax ? CREPE.cents(ofBin: bin) : CREPE.localAverageCents(row, center: bin, allowed: allowed)
            let frequency = CREPE.frequency(cents: cents)
            frequencies.append(frequency.isFinite ? frequency : 0)
        }
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
        let times = (0..<count).map { Double($0 * hop) / Double(CREPE.sampleRate) }
        return PitchTrack(times: times, frequencies: frequencies, confidences: confidences.map { Float($0) }, bins: decoded, activation: activation,
                          embedding: embedding.map { $0.reshaped([count, $0.count / max(count, 1)]) })
    }

    /// Decodes `path`, resamples it to 16 kHz mono and estimates its pitch.
    public func estimate(file path: String, stepMilliseconds: Double = 10, centered: Bool = true, decoding: PitchDecoding = PitchDecoding(),
                         embedding: Bool = false, progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        try estimate(samples: try AudioFileReader.readMono(path: path, sampleRate: pipeline.input.sampleRate).samples,
                     stepMilliseconds: stepMilliseconds, centered: centered, decoding: decoding, embedding: embedding, progress: progress)
    }
}

extension PitchTrack {
    /// The same track at `times`.
    func retimed(_ times: [Double]) -> PitchTrack {
        PitchTrack(times: times, frequencies: frequencies, confidences: confidences, bins: bins, activation: activation,
                   embedding: embedding)
    }
}
