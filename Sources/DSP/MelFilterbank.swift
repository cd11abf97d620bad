import CAudioKernels
import Foundation

/// A mel filterbank matrix `[spectrogramBins, melBands]` (row-major), applied as `magnitudes × weights`.
public struct MelFilterbank: Sendable {
    /// Number of linear-frequency bins (rows).
    public let spectrogramBins: Int
    /// Number of mel bands (columns).
    public let melBands: Int
    /// Row-major weights.
    public let weights: [Float]
    /// For each band, the bins where its triangle is non-zero and their weights: a triangle spans a few bins,
    /// so applying the bank this way takes about 2 multiply-adds per bin instead of `melBands`.
    public let bands: [(first: Int, weights: [Float])]
    /// ``bands`` packed for the C kernel eight at a time (one vector of sums): each group's first bin and bin count,
    /// then per bin the eight bands' weights, zero where a band does not reach; the groups one after another. A bin
    /// lies in two bands, so a group reads about nine half-bands' bins.
    let groupFirst: [Int32], groupLength: [Int32], groupWeights: [Float]
    /// The bins some band reads (YAMNet's 125–7500 Hz: 4 ..< 241 of 257).
    let readBins: Range<Int>

    public init(spectrogramBins: Int, melBands: Int, weights: [Float]) {
        self.spectrogramBins = spectrogramBins
        self.melBands = melBands
        self.weights = weights
        let bands: [(first: Int, weights: [Float])] = (0..<melBands).map { band in
            let column = (0..<spectrogramBins).map { weights[$0 * melBands + band] }
            guard let first = column.firstIndex(where: { $0 != 0 }), let last = column.lastIndex(where: { $0 != 0 }) else {
                return (0, [])
            }
            return (first, Array(column[first...last]))
        }
        self.bands = bands
        var groupFirst: [Int32] = [], groupLength: [Int32] = [], groupWeights: [Float] = []
        let groupSize = Int(AN_MEL_GROUP)
        for group in stride(from: 0, to: melBands, by: groupSize) {
            let members = (group..<min(group + groupSize, melBands)).filter { !bands[$0].weights.isEmpty }
            let first = members.map { bands[$0].first }.min() ?? 0
            let end = members.map { bands[$0].first + bands[$0].weights.count }.max() ?? 0
            groupFirst.append(Int32(first))
            groupLength.append(Int32(end - first))
            for bin in first..<end {
                groupWeights += (group..<group + groupSize).map { band in band < melBands ? weights[bin * melBands + band] : 0 }
            }
        }
        (self.groupFirst, self.groupLength, self.groupWeights) = (groupFirst, groupLength, groupWeights)
        let read = bands.filter { !$0.weights.isEmpty }
        readBins = (read.map(\.first).min() ?? 0)..<(read.map { $0.first + $0.weights.count }.max() ?? 0)
    }

    /// HTK mel scale, `1127 ln(1 + f / 700)`.
    public static func hertzToMel(_ hertz: Double) -> Double { 1127.0 * log(1.0 + hertz / 700.0) }

    /// Triangular filters equal to `tf.signal.linear_to_mel_weight_matrix` (and to VGGish's
    /// `mel_features.spectrogram_to_mel_matrix`): band edges evenly spaced on the HTK mel scale from
    /// `lowerHertz` to `upperHertz`, slopes evaluated at each bin's mel frequency, the DC bin zeroed.
    /// Built in Float64 and rounded once.
    public static func htk(melBands: Int, spectrogramBins: Int, sampleRate: Int,
                           lowerHertz: Double, upperHertz: Double) -> MelFilterbank {
        let nyquist = Double(sampleRate) / 2
        let lowerMel = hertzToMel(lowerHertz), upperMel = hertzToMel(upperHertz)
        let edges = (0..<(melBands + 2)).map { lowerMel + (upperMel - lowerMel) * Double($0) / Double(melBands + 1) }
        var weights = [Float](repeating: 0, count: spectrogramBins * melBands)
        // Row 0 (DC) stays zero: TensorFlow drops it (bands_to_zero = 1) and VGGish zeroes it.
        for bin in 1..<spectrogramBins {
            let mel = hertzToMel(nyquist * Double(bin) / Double(spectrogramBins - 1))
            for band in 0..<melBands {
                let lower = (mel - edges[band]) / (edges[band + 1] - edges[band])
                let upper = (edges[band + 2] - mel) / (edges[band + 2] - edges[band + 1])
                weights[bin * melBands + band] = Float(max(0, min(lower, upper)))
            }
        }
        return MelFilterbank(spectrogramBins: spectrogramBins, melBands: melBands, weights: weights)
    }
}
