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
        /// Manifest path of the Keras weights.
        public var weightFile: String { "crepe/\(modelName).h5" }
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

    /// Builds CREPE of `capacity` with its Keras weights, or placeholder weights when nil (layer tables).
    /// The frame is a height-1024, width-1 image as in Keras; node names follow core.py; output `classifier`.
    public static func network(_ capacity: Capacity, weights: KerasWeights?) throws -> Network {
        var net = Network(inputShape: [frameLength])
        try net.add("input-reshape", Reshape([frameLength, 1, 1]))
        var channels = 1
        for (index, block) in blocks.enumerated() {
            let name = "conv\(index + 1)", filters = block.filters * capacity.multiplier
            let kernel = try weights?.tensor(name, "kernel", shape: [block.width, channels, filters]).scalars
            try net.add(name, Conv2D(inputChannels: channels, outputChannels: filters, kernel: (block.width, 1),
                                     stride: (block.stride, 1), padding: .same, weights: kernel,
                                     bias: try weights?.tensor(name, "bias", shape: [filters]).scalars, activation: .relu))
            let ones = [Float](repeating: 1, count: filters), zeros = [Float](repeating: 0, count: filters)
            let norm = "\(name)-BN"
            try net.add(norm, BatchNorm(gamma: try weights?.tensor(norm, "gamma", shape: [filters]).scalars ?? ones,
                                        beta: try weights?.tensor(norm, "beta", shape: [filters]).scalars ?? zeros,
                                        mean: try weights?.tensor(norm, "moving_mean", shape: [filters]).scalars ?? zeros,
                                        variance: try weights?.tensor(norm, "moving_variance", shape: [filters]).scalars ?? ones,
                                        epsilon: batchNormEpsilon))
            try net.add("\(name)-maxpool", Pool2D(.max, kernel: (2, 1)))
            try net.add("\(name)-dropout", Dropout(rate: 0.25))
            channels = filters
        }
        try net.add("transpose", Permute([1, 0, 2]))
        try net.add("flatten", Flatten())
        let features = 4 * channels
        try net.add("classifier", Dense(inputFeatures: features, outputFeatures: binCount,
                                        weights: try weights?.tensor("classifier", "kernel", shape: [features, binCount]).scalars,
                                        bias: try weights?.tensor("classifier", "bias", shape: [binCount]).scalars,
                                        activation: .sigmoid))
        return net
    }

    /// Cents of bin i: 20 cents apart from 1997.3794084376191 (core.py `to_local_average_cents`).
    public static func cents(ofBin bin: Int) -> Double { 1997.3794084376191 + 7180.0 * Double(bin) / 359.0 }

    /// Frequency in Hz of `cents` (relative to 10 Hz, as CREPE defines them).
    public static func frequency(cents: Double) -> Double { 10 * pow(2, cents / 1200) }
}
