import AudioIO
import AudioNet
import Base
import DSP
import Foundation
import Formats
import NetCore
import TestSupport
import Testing

@Suite struct LogMelFrontEndTests {
    static let signals = ["silence", "noise", "speech", "tone"]

    /// The whole path from the WAV file against the float64 NumPy rendering of the reference
    /// (Tests/Reference/make_frontend_fixtures.py).
    func check(_ signal: String, frontEnd: LogMelFrontEnd) throws {
        let reference = try NPY.read(path: TestSupport.fixture("frontend/\(signal).\(frontEnd.name).npy")).tensor
        let ours = try Spectrogram.compute(path: TestSupport.fixture("frontend/\(signal).wav"), frontEnd: frontEnd, patches: true)
        #expect(ours.shape == reference.shape, "\(signal)")
        let difference = TestSupport.maxAbsDifference(ours.scalars, reference.scalars)
        #expect(difference <= 1e-4, "\(signal) \(frontEnd.name): max abs difference \(difference)")
    }

    @Test(arguments: signals) func yamnetPatchesMatchFloat64Reference(signal: String) throws {
        try check(signal, frontEnd: .yamnet)
    }

    @Test(arguments: signals) func vggishExamplesMatchFloat64Reference(signal: String) throws {
        try check(signal, frontEnd: .vggish)
    }

    /// A patch hop set by the user (`classify --hop`, `embed --hop`) cuts the patches yamnet's `patch_hop_seconds`
    /// cuts: padding to whole hops of it and framing by it; VGGish's hop the same way.
    @Test(arguments: [("yamnet", 0.25, "yamnet-hop25"), ("vggish", 0.5, "vggish-hop50")])
    func aChosenPatchHopCutsTheReferencesPatches(_ network: String, hop: Double, fixture: String) throws {
        let reference = try NPY.read(path: TestSupport.fixture("frontend/speech.\(fixture).npy")).tensor
        let samples = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/speech.wav"), sampleRate: 16_000).samples
        let input = try #require(Networks.named(network)?.audio?(network))
        let examples = input.examples(samples, hop)
        #expect(examples.count == reference.shape[0] && examples.times.last == Double(examples.count - 1) * hop)
        let ours = examples.make(0, examples.count)
        let difference = TestSupport.maxAbsDifference(ours.scalars, reference.scalars)
        #expect(ours.shape == reference.shape && difference <= 1e-4, "\(network): \(ours.shape), max abs difference \(difference)")
    }

    @Test func shortAudioIsPaddedToOneYAMNetPatch() {
        let patches = LogMelFrontEnd.yamnet.logMelPatches([Float](repeating: 0, count: 100))
        #expect(patches.shape == [1, 96, 64])
        let none = LogMelFrontEnd.yamnet.logMelPatches([])
        #expect(none.shape == [1, 96, 64])
    }

    @Test func yamnetPaddingRoundsUpToWholePatchHops() {
        // 15600 samples make one patch; one more sample needs a whole extra hop of 7680.
        #expect(LogMelFrontEnd.yamnet.paddedCount(15_600) == 15_600)
        #expect(LogMelFrontEnd.yamnet.paddedCount(15_601) == 15_600 + 7680)
    }

    /// The frames that reach past the signal read zeros after it, as the frames of the padded signal do: the padding
    /// is not appended to the signal but read from a copy of its end.
    @Test func framesPastTheSignalReadItsPadding() {
        let yamnet = LogMelFrontEnd.yamnet
        let unpadded = LogMelFrontEnd(name: "unpadded", sampleRate: 16_000, windowLength: 400, hopLength: 160, fftLength: 512,
                                      melBands: 64, lowerHertz: 125, upperHertz: 7500, logOffset: 0.001, patchFrames: 96,
                                      patchHop: 48, padding: .none)
        for count in [100, 15_601, 20_037] {
            let samples = (0..<count).map { Float(sin(Double($0) * 0.05)) * 0.5 }
            let padded = samples + repeatElement(0, count: yamnet.paddedCount(count) - count)
            let ours = yamnet.logMel(samples), reference = unpadded.logMel(padded)
            #expect(ours.shape == reference.shape && ours.scalars == reference.scalars, "\(count) samples")
        }
    }

    /// The log is a polynomial for normal values and libm's for the rest: a NaN sample makes NaN frames (not
    /// numbers from its bits), as it did when every value took libm's log.
    @Test func aNaNSampleMakesTheFramesHoldingItNaN() {
        var samples = [Float](repeating: 0.1, count: 16_000)
        samples[8000] = .nan
        let frames = LogMelFrontEnd.yamnet.logMel(samples), bands = frames.shape[1]
        let holding = (0..<frames.shape[0]).filter { $0 * 160 <= 8000 && 8000 < $0 * 160 + 400 }
        for frame in 0..<frames.shape[0] {
            let row = frames.scalars[frame * bands..<(frame + 1) * bands]
            #expect(holding.contains(frame) ? row.contains { $0.isNaN } : row.allSatisfy(\.isFinite), "frame \(frame)")
        }
    }

    /// VGGish's reference emits no example for a clip under 0.96 s; AudioNet pads it to one, as YAMNet does.
    @Test func vggishPadsLessThanOneExampleToOne() {
        #expect(LogMelFrontEnd.vggish.logMelPatches([Float](repeating: 0, count: 1000)).shape == [1, 96, 64])
        #expect(LogMelFrontEnd.vggish.paddedCount(20_000) == 20_000)
    }

    @Test func melFilterbankZeroesDCAndPeaksAtOne() {
        let bank = LogMelFrontEnd.yamnet.filterbank
        #expect(bank.weights[0..<bank.melBands].allSatisfy { $0 == 0 })
        #expect(bank.weights.max()! <= 1)
        #expect(bank.weights.allSatisfy { $0 >= 0 })
    }

    /// Sizes FFTW plans with SIMD codelets and sizes it does not, on the transform's own aligned buffers.
    @Test(arguments: [16, 400, 512, 2048])
    func fftMatchesDirectDFT(size: Int) {
        let input = (0..<size).map { sin(Double($0) * 0.7) + 0.1 * Double($0) }
        let fft = RealFFT(size: size)
        fft.input.update(from: input, count: size)
        fft.forward()
        var largest = 0.0
        for k in 0...(size / 2) {
            var re = 0.0, im = 0.0
            for n in 0..<size {
                re += input[n] * cos(2 * Double.pi * Double(k * n % size) / Double(size))
                im -= input[n] * sin(2 * Double.pi * Double(k * n % size) / Double(size))
            }
            largest = max(largest, abs(fft.spectrum[2 * k] - re), abs(fft.spectrum[2 * k + 1] - im))
        }
        #expect(largest < 1e-9 * Double(size), "largest difference \(largest)")
        #expect(Array(UnsafeBufferPointer(start: fft.input, count: size)) == input, "the transform must not modify its input")
    }

    /// The complex transform the front end runs two frames through, on sizes with and without SIMD codelets.
    @Test(arguments: [16, 400, 512])
    func complexFFTMatchesDirectDFT(size: Int) {
        let real = (0..<size).map { sin(Double($0) * 0.3) + 0.01 * Double($0) }
        let imaginary = (0..<size).map { cos(Double($0) * 0.7) - 0.02 * Double($0) }
        let fft = ComplexFFT(size: size)
        fft.real.update(from: real, count: size)
        fft.imaginary.update(from: imaginary, count: size)
        fft.forward()
        var largest = 0.0
        for k in 0..<size {
            var re = 0.0, im = 0.0
            for n in 0..<size {
                let angle = 2 * Double.pi * Double(k * n % size) / Double(size)
                re += real[n] * cos(angle) + imaginary[n] * sin(angle)
                im += imaginary[n] * cos(angle) - real[n] * sin(angle)
            }
            largest = max(largest, abs(fft.spectrumReal[k] - re), abs(fft.spectrumImaginary[k] - im))
        }
        #expect(largest < 1e-9 * Double(size), "largest difference \(largest)")
        #expect(Array(UnsafeBufferPointer(start: fft.real, count: size)) == real
                && Array(UnsafeBufferPointer(start: fft.imaginary, count: size)) == imaginary,
                "the transform must not modify its input")
    }

    /// The front ends' 512 points on AVX-512 (`an_fft512`, radix 8) against FFTW's plan (the AVX2 level), on a frame
    /// pair's shape: 400 values of each part, then zeros, and on values everywhere.
    @Test(.enabled(if: CPU.detected.contains(.avx512), "this processor has no AVX-512 (it has: \(CPU.detected)); only FFTW's 512 points run here"),
          arguments: [400, 512])
    func avx512TransformOf512PointsAgreesWithFFTW(filled: Int) {
        func part(_ value: (Double) -> Double) -> [Double] { (0..<512).map { n in n < filled ? value(Double(n)) : 0 } }
        let real = part { sin($0 * 0.37) + 0.01 * $0.truncatingRemainder(dividingBy: 7) }, imaginary = part { 0.5 * cos($0 * 1.1) }
        func spectrum(level: Int) -> [Double] {
            CPU.withLevel(level) {
                let fft = ComplexFFT(size: 512)
                fft.real.update(from: real, count: 512)
                fft.imaginary.update(from: imaginary, count: 512)
                fft.forward()
                return Array(UnsafeBufferPointer(start: fft.spectrumReal, count: 512))
                    + Array(UnsafeBufferPointer(start: fft.spectrumImaginary, count: 512))
            }
        }
        let wide = spectrum(level: 2), fftw = spectrum(level: 1)
        let largest = zip(wide, fftw).map { abs($0 - $1) }.max()!, peak = fftw.map(abs).max()!
        #expect(wide != fftw, "the two levels must run different transforms (their last bits differ)")
        #expect(largest < 1e-13 * peak, "largest difference \(largest) against a peak of \(peak)")
    }

    /// Frames go through the FFT two at a time (x + iy) and the mel bank eight bands at a time. Against a direct float64
    /// computation (DFT, dense bank): 13 bands (not a multiple of eight), 7 frames (the last with no partner), a quiet
    /// frame paired with a loud one (80 dB apart, frames not overlapping) and a log offset of 1e-12, so that the quiet
    /// frame's weakest bands are read far below its partner's peak, where single-precision rounding of the shared
    /// spectrum would show.
    @Test(arguments: [13, 64]) func logMelMatchesADirectFloat64Computation(bands: Int) {
        let frontEnd = LogMelFrontEnd(name: "direct", sampleRate: 16_000, windowLength: 400, hopLength: 400, fftLength: 512,
                                      melBands: bands, lowerHertz: 125, upperHertz: 7500, logOffset: 1e-12, patchFrames: 1,
                                      patchHop: 1, padding: .none)
        let samples = (0..<7 * 400).map { n -> Float in
            let tone = sin(Double(n) * 0.21) + 0.3 * sin(Double(n) * 1.7 + 0.5)
            return Float(tone * (n < 400 ? 1e-4 : 0.9))
        }
        let ours = frontEnd.logMel(samples)
        #expect(ours.shape == [7, bands])
        let window = (0..<400).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / 400) }
        var largest: Float = 0
        for frame in 0..<7 {
            let magnitudes = (0...256).map { k -> Double in
                var re = 0.0, im = 0.0
                for n in 0..<400 {
                    let x = Double(samples[frame * 400 + n]) * window[n], angle = 2 * Double.pi * Double(k * n % 512) / 512
                    re += x * cos(angle)
                    im -= x * sin(angle)
                }
                return (re * re + im * im).squareRoot()
            }
            for band in 0..<bands {
                let mel = (0...256).reduce(0.0) { $0 + magnitudes[$1] * Double(frontEnd.filterbank.weights[$1 * bands + band]) }
                largest = max(largest, abs(ours.scalars[frame * bands + band] - Float(log(mel + 1e-12))))
            }
        }
        #expect(largest <= 2e-5, "largest difference \(largest)")
    }
}
