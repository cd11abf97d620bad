import AudioIO
import DSP
import Formats
import Models
import NetCore

/// A pitch track: one row per frame.
public struct PitchTrack: Sendable {
    /// Frame centres in seconds.
    public let times: [Double]
    /// Frequencies in Hz (0 where the activation is all zero).
    public let frequencies: [Double]
    /// Confidence: the frame's largest activation.
    public let confidences: [Float]
    /// Raw activations `[N, 360]`.
    public let activation: Tensor
}

/// Pitch estimation with CREPE (MATLAB's `pitchnn`), on the original Keras weights.
public final class PitchEstimator: Sendable {
    public let capacity: CREPE.Capacity
    /// The network, ready to run.
    public let network: Network
    /// Frames per network call.
    static let batchSize = 32

    public init(capacity: CREPE.Capacity, network: Network) {
        self.capacity = capacity
        self.network = network.optimized()
    }

    /// CREPE of `capacity` with its weights from `store` (or `weightsPath`).
    public static func crepe(_ capacity: CREPE.Capacity, store: WeightStore = .fromEnvironment(),
                             weightsPath: String? = nil) throws -> PitchEstimator {
        PitchEstimator(capacity: capacity, network: try CREPE.network(capacity, store: store, weightsPath: weightsPath))
    }

    /// Batches run one after another, each layer split across the cores: CREPE full's activations are large.
    var runner: BatchRunner { BatchRunner(network: network, batchSize: Self.batchSize, batchesSideBySide: false) }

    /// Activations `[N, 360]` of normalised frames `[N, 1024]`, computed in batches.
    public func activations(frames: Tensor) throws -> Tensor {
        try runner.run(examples: frames, outputs: [network.outputName])[network.outputName]!
    }

    /// Pitch of 16 kHz mono samples every `stepMilliseconds`, frames centred on their times; Viterbi
    /// smoothing when asked. `progress` receives the fraction done.
    public func estimate(samples: [Float], stepMilliseconds: Double = 10, viterbi: Bool = false,
                         progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        let hop = Int(Double(CREPE.sampleRate) * stepMilliseconds / 1000)
        guard hop >= 1 else { throw AudioNetError.invalidOption("--step-ms must give at least one sample per hop") }
        let count = CREPE.frameCount(sampleCount: samples.count, hop: hop)
        // Frames are cut batch by batch from the samples, never all at once.
        let activation = try runner.run(count: count, outputs: [network.outputName], progress: progress) { first, size in
            Tensor(shape: [size, CREPE.frameLength], scalars: CREPE.frames(samples, hop: hop, first: first, count: size))
        }[network.outputName]!
        return decode(activation, hop: hop, viterbi: viterbi)
    }

    /// Turns activations `[N, 360]` of frames `hop` samples apart into a pitch track: local weighted average
    /// around the argmax (or around the Viterbi path), confidence = the frame's largest activation.
    public func decode(_ activation: Tensor, hop: Int, viterbi: Bool) -> PitchTrack {
        let bins = CREPE.binCount, count = activation.shape[0]
        let values = activation.scalars
        let path = viterbi ? CREPE.viterbiPath(values, frames: count) : nil
        var frequencies: [Double] = [], confidences: [Float] = []
        for frame in 0..<count {
            let row = values[frame * bins..<(frame + 1) * bins]
            confidences.append(row.max() ?? 0)
            let cents = CREPE.localAverageCents(row, center: path?[frame])
            let frequency = CREPE.frequency(cents: cents)
            frequencies.append(frequency.isFinite ? frequency : 0)
        }
        let times = (0..<count).map { Double($0 * hop) / Double(CREPE.sampleRate) }
        return PitchTrack(times: times, frequencies: frequencies, confidences: confidences, activation: activation)
    }

    /// Decodes `path`, resamples it to 16 kHz mono and estimates its pitch.
    public func estimate(file path: String, stepMilliseconds: Double = 10, viterbi: Bool = false,
                         progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        try estimate(samples: try AudioFileReader.readMono(path: path, sampleRate: CREPE.sampleRate).samples,
                     stepMilliseconds: stepMilliseconds, viterbi: viterbi, progress: progress)
    }
}
