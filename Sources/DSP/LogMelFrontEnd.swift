import Base
import CAudioKernels
import Foundation

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

    /// The length of `count` samples once padded as the configuration's reference pads them.
    public func paddedCount(_ count: Int) -> Int {
        // features.pad_waveform: one patch needs patchFrames hops plus the rest of the last window.
        let minimum = (patchFrames - 1) * hopLength + windowLength
        switch padding {
        case .none:
            return count
        case .onePatch:
            return max(count, minimum)
        case .yamnetPatches:
            let patchHopSamples = patchHop * hopLength
            let extraHops = (max(count, minimum) - minimum + patchHopSamples - 1) / patchHopSamples
            return minimum + extraHops * patchHopSamples
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

    /// Patches `first..<first+count` of log-mel frames `[T, bands]` (the signal's frames from `firstFrame` on), as
    /// `[count, patchFrames, bands]`.
    public func patches(_ logMel: Tensor, first: Int, count: Int, firstFrame: Int = 0) -> Tensor {
        let patchSize = patchFrames * melBands
        precondition(first * patchHop >= firstFrame && count >= 0
                     && (count == 0 || ((first + count - 1) * patchHop - firstFrame) * melBands + patchSize <= logMel.count),
                     "patches \(first)..<\(first + count) of \(logMel.shape[0]) frames from frame \(firstFrame)")
        return Tensor(shape: [count, patchFrames, melBands]) { patches in
            logMel.scalars.withUnsafeBufferPointer { frames in
                for patch in 0..<count {
                    let start = ((first + patch) * patchHop - firstFrame) * melBands
                    (patches.baseAddress! + patch * patchSize).update(from: frames.baseAddress! + start, count: patchSize)
                }
            }
        }
    }

    /// Log-mel frames `[T, melBands]` of `samples` padded as the configuration's reference pads them, only whole
    /// STFT frames. The zeros are not appended to the signal: the frames that reach past it read a copy of its end.
    public func logMel(_ samples: [Float]) -> Tensor {
        let total = paddedCount(samples.count)
        let frames = total >= windowLength ? 1 + (total - windowLength) / hopLength : 0
        guard frames > 0 else { return Tensor(zeros: [0, melBands]) }
        _ = AllocatorPolicy.configure
        // Frames from `tailFrame` on reach past the signal; `tail` holds the padded signal from where the first begins.
        let tailFrame = samples.count >= windowLength ? (samples.count - windowLength) / hopLength + 1 : 0
        let tailStart = tailFrame * hopLength
        let tail = tailFrame < frames
            ? Array(samples[min(tailStart, samples.count)...]) + repeatElement(0, count: total - max(tailStart, samples.count))
            : []
        let output = [Float](unsafeUninitializedCapacity: frames * melBands) { out, initialized in
            samples.withUnsafeBufferPointer { signal in
                tail.withUnsafeBufferPointer { tail in
                    let signal = SharedReadPointer(signal.baseAddress ?? tail.baseAddress!)
                    let tail = SharedReadPointer(tail.baseAddress ?? signal.base)
                    computeFrames(0..<frames, into: out.baseAddress!) {
                        $0 < tailFrame ? signal.base + $0 * hopLength : tail.base + ($0 * hopLength - tailStart)
                    }
                }
            }
            initialized = frames * melBands
        }
        return Tensor(shape: [frames, melBands], scalars: output)
    }

    /// Frames `range` (`start` gives where a frame's samples begin) into `output`, in chunks of 128 frames split over
    /// the cores, two frames a transform from the range's first on. A frame's values do not depend on the range it is
    /// made in as long as the range starts at an even frame (``LogMelPatchStream`` relies on it): the frames of a
    /// transform are pulled apart exactly but for a rare last bit of one band (YAMNet's frame 984 of a 12-s recording
    /// of speech and a sweep, paired otherwise, differed by one ulp in band 49).
    func computeFrames(_ range: Range<Int>, into output: UnsafeMutablePointer<Float>,
                       start: @escaping @Sendable (Int) -> UnsafePointer<Float>) {
        precondition(range.lowerBound % 2 == 0, "frames are paired from even frames")
        let chunk = 128
        let chunks = (range.count + chunk - 1) / chunk
        let result = SharedPointer(output)
        Parallel.forEach(chunks) { index in
            let first = index * chunk
            computeChunk(firstFrame: range.lowerBound + first, frameCount: min(chunk, range.count - first),
                         output: result.base + first * melBands, start: start)
        }
    }

    /// Frames `[T, melBands]` into patches `[N, patchFrames, melBands]`, only whole patches.
    public func patches(_ logMel: Tensor) -> Tensor {
        patches(logMel, first: 0, count: patchCount(frames: logMel.shape[0]))
    }

    /// Log-mel frames of the padded signal, framed into patches.
    public func logMelPatches(_ samples: [Float]) -> Tensor { patches(logMel(samples)) }

    /// Windowed FFT of each of `frameCount` frames (`start` gives where a frame's samples begin), two frames a
    /// transform, then its magnitudes through the sparse mel bank and the log, into `output`.
    private func computeChunk(firstFrame: Int, frameCount: Int, output: UnsafeMutablePointer<Float>,
                              start: (Int) -> UnsafePointer<Float>) {
        let fft = ComplexFFT(size: fftLength)  // its input's zeros after the window are the FFT's zero padding
        let bank = filterbank, bins = bank.spectrogramBins
        let size = Int32(fftLength), lo = Int32(bank.readBins.lowerBound), hi = Int32(bank.readBins.upperBound)
        // The two frames' magnitudes, then room for the zero frame's when a frame is transformed alone.
        let magnitudes = UnsafeMutablePointer<Float>.allocate(capacity: 3 * bins)
        defer { magnitudes.deallocate() }
        for local in stride(from: 0, to: frameCount, by: 2) {
            let first = start(firstFrame + local), second = local + 1 < frameCount ? start(firstFrame + local + 1) : nil
            if an_window_frame_pair(first, second, window, Int32(windowLength), fft.real, fft.imaginary) != 0 {
                fft.forward()
                an_pair_magnitudes(fft.spectrumReal, fft.spectrumImaginary, size, lo, hi, magnitudes, magnitudes + bins)
            } else {
                // A NaN or infinite sample would spread into the other frame: each frame is transformed alone.
                for (index, frame) in [first, second].compactMap({ $0 }).enumerated() {
                    an_window_frame_pair(frame, nil, window, Int32(windowLength), fft.real, fft.imaginary)
                    fft.forward()
                    an_pair_magnitudes(fft.spectrumReal, fft.spectrumImaginary, size, lo, hi, magnitudes + index * bins,
                                       magnitudes + 2 * bins)
                }
            }
            an_log_mel_frames(magnitudes, Int32(bins), second == nil ? 1 : 2, bank.groupFirst, bank.groupLength,
                              bank.groupWeights, Int32(melBands), logOffset, output + local * melBands)
        }
    }
}
