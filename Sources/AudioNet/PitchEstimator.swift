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
    public func activations(frames: Tensor) throws -> Tensor {
        let input = pipeline.input
        return try BatchRunner(network: network, batchSize: input.batchSize, batchesSideBySide: input.batchesSideBySide)
            .run(examples: frames, outputs: [network.outputName])[network.outputName]!
    }

    /// Pitch of 16 kHz mono samples every `stepMilliseconds`, frames centred on their times; Viterbi
    /// smoothing when asked. `progress` receives the fraction done.
    public func estimate(samples: consuming [Float], stepMilliseconds: Double = 10, viterbi: Bool = false,
                         progress: (@Sendable (Double) -> Void)? = nil) throws -> PitchTrack {
        let hop = Int(Double(CREPE.sampleRate) * stepMilliseconds / 1000)
        guard hop >= 1 else { throw AudioNetError.invalidOption("--step-ms must give at least one sample per hop") }
        let result = try pipeline.run(samples: samples, outputs: [network.outputName],
                                      hopSeconds: Double(hop) / Double(CREPE.sampleRate), progress: progress)
        return decode(result.outputs[network.outputName]!, hop: hop, viterbi: viterbi)
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
        try estimate(samples: try AudioFileReader.readMono(path: path, sampleRate: pipeline.input.sampleRate).samples,
                     stepMilliseconds: stepMilliseconds, viterbi: viterbi, progress: progress)
    }
}
