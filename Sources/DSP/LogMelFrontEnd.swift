import Foundation
import Base

/// A log-mel spectrogram front end: STFT magnitude → mel → `log(mel + offset)` → patches.
///
/// The two named configurations reproduce the AudioSet models' feature code exactly:
/// ``yamnet`` (research/audioset/yamnet/features.py) and ``vggish`` (research/audioset/vggish/vggish_input.py).
public struct LogMelFrontEnd: Sendable {
    /// How the waveform is padded before framing.
    public enum Padding: Sendable {
        /// No padding: only whole STFT frames and whole patches are emitted (VGGish).
        case none
        /// YAMNet's `pad_waveform`: at least one patch, then whole patch hops.
        case yamnetPatches
        /// Zeros up to one patch for a shorter signal (as `pad_waveform` pads it), nothing for a longer one: VGGish,
        /// whose reference emits no example for a clip under 0.96 s.
        case onePatch
    }

    /// Name used on the command line.
    public let name: String
    /// Input sample rate in Hz.
    public let sampleRate: Int
    /// STFT window length in samples.
    public let windowLength: Int
    /// STFT hop in samples.
    public let hopLength: Int
    /// FFT length (the window is zero-padded at its end, as `tf.signal.stft` does).
    public let fftLength: Int
    /// Offset added before the natural log.
    public let logOffset: Float
    /// Frames per patch.
    public let patchFrames: Int
    /// Frames between consecutive patches.
    public private(set) var patchHop: Int
    /// Waveform padding rule.
    public let padding: Padding
    /// The mel filterbank.
    public let filterbank: MelFilterbank
    private let window: [Double]

    /// Number of mel bands.
    public var melBands: Int { filterbank.melBands }

    public init(name: String, sampleRate: Int, windowLength: Int, hopLength: Int, fftLength: Int, melBands: Int,
                lowerHertz: Double, upperHertz: Double, logOffset: Float, patchFrames: Int, patchHop: Int,
                padding: Padding) {
        precondition(windowLength <= fftLength && hopLength > 0 && patchFrames > 0 && patchHop > 0)
        self.name = name
        self.sampleRate = sampleRate
        self.windowLength = windowLength
        self.hopLength = hopLength
        self.fftLength = fftLength
        self.logOffset = logOffset
        self.patchFrames = patchFrames
        self.patchHop = patchHop
        self.padding = padding
        filterbank = .htk(melBands: melBands, spectrogramBins: fftLength / 2 + 1, sampleRate: sampleRate,
                          lowerHertz: lowerHertz, upperHertz: upperHertz)
        window = Window.periodicHann(windowLength)
    }

    /// YAMNet (yamnet/params.py): 16 kHz, 25 ms window, 10 ms hop, FFT 512, 64 bands 125–7500 Hz,
    /// log offset 0.001, patches of 0.96 s (96 frames) every 0.48 s (48 frames).
    public static let yamnet = LogMelFrontEnd(
        name: "yamnet", sampleRate: 16_000, windowLength: 400, hopLength: 160, fftLength: 512, melBands: 64,
        lowerHertz: 125, upperHertz: 7500, logOffset: 0.001, patchFrames: 96, patchHop: 48, padding: .yamnetPatches)

    /// VGGish (vggish/vggish_params.py): as YAMNet but log offset 0.01 and non-overlapping 0.96 s examples; a clip
    /// shorter than one example is padded to one.
    public static let vggish = LogMelFrontEnd(
        name: "vggish", sampleRate: 16_000, windowLength: 400, hopLength: 160, fftLength: 512, melBands: 64,
        lowerHertz: 125, upperHertz: 7500, logOffset: 0.01, patchFrames: 96, patchHop: 96, padding: .onePatch)

    /// The named front ends, by command-line name.
    public static let named = Dictionary(uniqueKeysWithValues: [yamnet, vggish].map { ($0.name, $0) })

    /// Pads `samples` as the configuration's reference does.
    public func padded(_ samples: [Float]) -> [Float] {
        var copy = samples
        pad(&copy)
        return copy
    }

    /// Pads `samples` in place (no copy of a long signal).
    public func pad(_ samples: inout [Float]) {
        // features.pad_waveform: one patch needs patchFrames hops plus the rest of the last window.
        let minimum = (patchFrames - 1) * hopLength + windowLength
        switch padding {
        case .none:
            return
        case .onePatch:
            samples.append(contentsOf: repeatElement(0, count: max(0, minimum - samples.count)))
        case .yamnetPatches:
            let patchHopSamples = patchHop * hopLength
            let length = max(samples.count, minimum)
            let extraHops = (length - minimum + patchHopSamples - 1) / patchHopSamples
            let target = minimum + extraHops * patchHopSamples
            samples.append(contentsOf: repeatElement(0, count: target - samples.count))
        }
    }

    /// The same front end cutting a patch every `frames` frames (and padding to whole hops of that).
    public func withPatchHop(_ frames: Int) -> LogMelFrontEnd {
        precondition(frames > 0)
        var patching = self
        patching.patchHop = frames
        return patching
    }

    /// Number of whole patches in `frames` log-mel frames.
    public func patchCount(frames: Int) -> Int { frames >= patchFrames ? 1 + (frames - patchFrames) / patchHop : 0 }

    /// Patches `first..<first+count` of log-mel frames `[T, bands]`, as `[count, patchFrames, bands]`.
    public func patches(_ logMel: Tensor, first: Int, count: Int) -> Tensor {
        let patchSize = patchFrames * melBands
        var scalars = [Float](repeating: 0, count: count * patchSize)
        for patch in 0..<count {
            let start = (first + patch) * patchHop * melBands
            scalars.replaceSubrange(patch * patchSize..<(patch + 1) * patchSize, with: logMel.scalars[start..<start + patchSize])
        }
        return Tensor(shape: [count, patchFrames, melBands], scalars: scalars)
    }

    /// Log-mel frames `[T, melBands]` of `samples` (already padded if wanted), only whole STFT frames.
    public func logMel(_ samples: [Float]) -> Tensor {
        let frames = samples.count >= windowLength ? 1 + (samples.count - windowLength) / hopLength : 0
        guard frames > 0 else { return Tensor(zeros: [0, melBands]) }
        _ = AllocatorPolicy.configure
        var output = [Float](repeating: 0, count: frames * melBands)
        let chunk = 128
        let chunks = (frames + chunk - 1) / chunk
        samples.withUnsafeBufferPointer { signal in
            output.withUnsafeMutableBufferPointer { out in
                let input = SharedReadPointer(signal.baseAddress!)
                let result = SharedPointer(out.baseAddress!)
                Parallel.forEach(chunks) { index in
                    let first = index * chunk
                    computeChunk(signal: input.base, firstFrame: first, frameCount: min(chunk, frames - first),
                                 output: result.base + first * melBands)
                }
            }
        }
        return Tensor(shape: [frames, melBands], scalars: output)
    }

    /// Frames `[T, melBands]` into patches `[N, patchFrames, melBands]`, only whole patches.
    public func patches(_ logMel: Tensor) -> Tensor {
        patches(logMel, first: 0, count: patchCount(frames: logMel.shape[0]))
    }

    /// Pads, computes log-mel frames and frames them into patches.
    public func logMelPatches(_ samples: [Float]) -> Tensor { patches(logMel(padded(samples))) }

    /// Windowed FFT magnitudes of `frameCount` frames, then the sparse mel bank and log, into `output`.
    private func computeChunk(signal: UnsafePointer<Float>, firstFrame: Int, frameCount: Int,
                              output: UnsafeMutablePointer<Float>) {
        let fft = RealFFT.plan(size: fftLength)
        let bins = fft.binCount, length = windowLength, hop = hopLength
        let frame = UnsafeMutablePointer<Double>.allocate(capacity: fftLength)
        let spectrum = UnsafeMutablePointer<Double>.allocate(capacity: 2 * bins)
        let magnitudes = UnsafeMutablePointer<Float>.allocate(capacity: bins)
        defer { frame.deallocate(); spectrum.deallocate(); magnitudes.deallocate() }
        frame.initialize(repeating: 0, count: fftLength)  // the FFT's zero padding after the window
        window.withUnsafeBufferPointer { w in
            for local in 0..<frameCount {
                let source = signal + (firstFrame + local) * hop
                for n in 0..<length { frame[n] = Double(source[n]) * w[n] }
                fft.forward(frame, spectrum)
                for k in 0..<bins {
                    let re = spectrum[2 * k], im = spectrum[2 * k + 1]
                    magnitudes[k] = Float((re * re + im * im).squareRoot())
                }
                filterbank.apply(magnitudes, into: output + local * melBands)
            }
        }
        let offset = logOffset
        for i in 0..<(frameCount * melBands) { output[i] = log(output[i] + offset) }
    }
}
