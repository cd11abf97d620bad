import CBLAS
import Foundation
import Base

/// OpenL3's input representations as torchopenl3 computes them, which follow kapre 0.1.4 (the front end of
/// openl3 ≤ 0.3; openl3 0.4 moved to kapre 0.3): 1 s windows at 48 kHz, a Hann-windowed DFT with hop 242, then
/// `linear`: magnitude |X| (257 bins, no padding) or `mel128`/`mel256`: power |X|² through an HTK mel filterbank
/// (librosa, fmin 0, fmax 24 kHz, each filter normalized to unit L1 norm) and square-rooted (2048-point DFT,
/// input padded as Keras SAME). Both go to decibels as kapre does: 10·log10(max(x, 1e-10)), minus the window's
/// maximum, floored at −80 dB. Output `[bins, frames]`: 257×197, 128×199 or 256×199.
public struct OpenL3FrontEnd: Sendable {
    public enum Representation: String, CaseIterable, Sendable {
        case linear, mel128, mel256
    }

    public let representation: Representation
    public static let sampleRate = 48_000
    /// Samples per window (1 s) and the DFT hop.
    public static let windowLength = 48_000
    static let hop = 242
    var fftLength: Int { representation == .linear ? 512 : 2048 }
    /// Mel filterbank `[bins, mels]` (row-major) for the mel representations.
    let melWeights: [Float]

    public init(_ representation: Representation) {
        self.representation = representation
        switch representation {
        case .linear: melWeights = []
        case .mel128: melWeights = OpenL3FrontEnd.librosaMel(mels: 128, fftLength: 2048)
        case .mel256: melWeights = OpenL3FrontEnd.librosaMel(mels: 256, fftLength: 2048)
        }
    }

    /// One front end per representation, each built on first use (a mel filterbank takes milliseconds to make).
    public static func shared(_ representation: Representation) -> OpenL3FrontEnd {
        switch representation {
        case .linear: linear
        case .mel128: mel128
        case .mel256: mel256
        }
    }
    private static let linear = OpenL3FrontEnd(.linear), mel128 = OpenL3FrontEnd(.mel128), mel256 = OpenL3FrontEnd(.mel256)

    /// Rows of the output: frequency bins or mel bands.
    public var bins: Int {
        switch representation {
        case .linear: return 257
        case .mel128: return 128
        case .mel256: return 256
        }
    }

    /// Left padding (Keras SAME on a 48000-sample input with hop 242: 1964 in all, split evenly) for mel.
    var padding: (left: Int, right: Int) {
        guard representation != .linear else { return (0, 0) }
        let remainder = Self.windowLength % Self.hop
        let total = max(fftLength - (remainder == 0 ? Self.hop : remainder), 0)
        return (total / 2, total - total / 2)
    }

    /// Frames per window: 197 (linear) or 199 (mel).
    public var frames: Int { 1 + (Self.windowLength + padding.left + padding.right - fftLength) / Self.hop }

    /// `librosa.filters.mel(sr=48000, n_fft, n_mels, fmin=0, fmax=24000, htk=True, norm=1)`, transposed to
    /// `[bins, mels]`.
    static func librosaMel(mels: Int, fftLength: Int) -> [Float] {
        let rate = Double(sampleRate), bins = fftLength / 2 + 1
        func toMel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
        func toHz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }
        let top = toMel(rate / 2)
        let edges = (0..<(mels + 2)).map { toHz(top * Double($0) / Double(mels + 1)) }
        var weights = [Double](repeating: 0, count: bins * mels)
        for band in 0..<mels {
            var row = [Double](repeating: 0, count: bins)
            for bin in 0..<bins {
                let frequency = rate / 2 * Double(bin) / Double(bins - 1)
                let lower = (frequency - edges[band]) / (edges[band + 1] - edges[band])
                let upper = (edges[band + 2] - frequency) / (edges[band + 2] - edges[band + 1])
                row[bin] = max(0, min(lower, upper))
            }
            let norm = row.reduce(0, +)
            for bin in 0..<bins { weights[bin * mels + band] = norm > 0 ? row[bin] / norm : 0 }
        }
        return weights.map { Float($0) }
    }

    /// The representation `[bins, frames]` of one 48000-sample window.
    public func spectrogram(_ window: ArraySlice<Float>) -> [Float] {
        precondition(window.count == Self.windowLength)
        let fft = RealFFT(size: fftLength), binCount = fft.binCount
        let hann = Window.periodicHann(fftLength)
        let (left, _) = padding
        let frame = fft.input, spectrum = fft.spectrum
        var power = [Float](repeating: 0, count: frames * binCount)  // [frames, bins]
        let base = window.startIndex
        for t in 0..<frames {
            for n in 0..<fftLength {
                let index = t * Self.hop + n - left
                frame[n] = index >= 0 && index < Self.windowLength ? Double(window[base + index]) * hann[n] : 0
            }
            fft.forward()
            for k in 0..<binCount { power[t * binCount + k] = Float(spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1]) }
        }
        var output = [Float](repeating: 0, count: bins * frames)  // [bins, frames]
        if representation == .linear {
            for t in 0..<frames { for k in 0..<binCount { output[k * frames + t] = power[t * binCount + k].squareRoot() } }
        } else {
            // mel[band, t] = Σ_k W[k, band] · power[t, k], as one sgemm: Wᵀ · powerᵀ.
            melWeights.withUnsafeBufferPointer { w in
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, Int32(bins), Int32(frames), Int32(binCount), 1,
                            w.baseAddress, Int32(bins), power, Int32(binCount), 0, &output, Int32(frames))
            }
            for i in output.indices { output[i] = max(output[i], 0).squareRoot() }
        }
        // kapre 0.1.4 amplitude_to_decibel.
        for i in output.indices { output[i] = 10 * log10(max(output[i], 1e-10)) }
        let peak = output.max() ?? 0
        for i in output.indices { output[i] = max(output[i] - peak, -80) }
        return output
    }

    /// torchopenl3's windows: with `center`, half a window of zeros before the signal; then zeros after it up to
    /// whole hops; one window every `hopSeconds`. Returns the window count and the padded signal.
    public static func windows(_ samples: [Float], hopSeconds: Double, center: Bool) -> (count: Int, hop: Int, padded: [Float]) {
        let hop = Int(hopSeconds * Double(sampleRate)), count = windowCount(sampleCount: samples.count, hop: hop, center: center)
        let lead = center ? windowLength / 2 : 0
        let padded = [Float](repeating: 0, count: lead) + samples + [Float](repeating: 0, count: (count - 1) * hop + windowLength - lead - samples.count)
        return (count, hop, padded)
    }

    /// The number of windows `hop` samples apart of `sampleCount` samples, padded as ``windows(_:hopSeconds:center:)``
    /// says: at least one, the last reaching past the signal's end by less than a hop.
    public static func windowCount(sampleCount: Int, hop: Int, center: Bool) -> Int {
        let length = sampleCount + (center ? windowLength / 2 : 0)
        return length <= windowLength ? 1 : 1 + (length - windowLength + hop - 1) / hop
    }

    /// Spectrograms `[N, bins, frames]` of 48 kHz samples, one per window, with each window's time (its centre with `center`).
    public func spectrograms(samples: [Float], hopSeconds: Double = 0.1, center: Bool = true) -> (Tensor, [Double]) {
        let hop = Int(hopSeconds * Double(Self.sampleRate)), count = Self.windowCount(sampleCount: samples.count, hop: hop, center: center)
        let times = (0..<count).map { Double($0 * hop) / Double(Self.sampleRate) }
        return (spectrograms(samples, hop: hop, center: center, first: 0, count: count), times)
    }

    /// Spectrograms `[count, bins, frames]` of windows `first ..< first + count`, `hop` samples apart, of a signal whose
    /// samples from `offset` on are `samples` (a window of a stream); samples outside them read as zero, as the padding
    /// of ``windows(_:hopSeconds:center:)``. Computed side by side on the cores.
    public func spectrograms(_ samples: [Float], offset: Int = 0, hop: Int, center: Bool = true, first: Int, count: Int) -> Tensor {
        let size = bins * frames, lead = center ? Self.windowLength / 2 : 0
        var output = [Float](repeating: 0, count: count * size)
        let frontEnd = self
        output.withUnsafeMutableBufferPointer { buffer in
            let results = SharedPointer(buffer.baseAddress!)
            Parallel.forEach(count) { index in
                let start = (first + index) * hop - lead - offset
                var window = [Float](repeating: 0, count: Self.windowLength)
                let inside = max(0, start)..<min(samples.count, start + Self.windowLength)
                if !inside.isEmpty { window.replaceSubrange(inside.lowerBound - start..<inside.upperBound - start, with: samples[inside]) }
                (results.base + index * size).update(from: frontEnd.spectrogram(window[...]), count: size)
            }
        }
        return Tensor(shape: [count, bins, frames], scalars: output)
    }
}
