import AudioIO
import DSP
import Foundation
import TestSupport
import Testing

@Suite struct ResamplerTests {
    /// Index of the largest FFT magnitude of the first `size` samples (Hann-windowed).
    func peakBin(_ samples: [Float], size: Int) -> Int {
        let fft = RealFFT(size: size)
        let window = Window.periodicHann(size)
        for n in 0..<size { fft.input[n] = Double(samples[n]) * window[n] }
        fft.forward()
        let magnitudes = (0..<fft.binCount).map { (k: Int) -> Double in
            let re = fft.spectrum[2 * k], im = fft.spectrum[2 * k + 1]
            return re * re + im * im
        }
        return magnitudes.indices.max { magnitudes[$0] < magnitudes[$1] }!
    }

    @Test func resampling44100To16000KeepsSineFrequencyAndLevel() throws {
        let directory = TestSupport.temporaryDirectory()
        let file = directory.appendingPathComponent("sine44k.wav").path
        let frequency = 1000.0
        try AudioFileWriter.write(path: file, samples: TestSupport.sine(frequency: frequency, seconds: 2, sampleRate: 44_100),
                                  sampleRate: 44_100, encoding: .float32)
        let audio = try AudioFileReader.readMono(path: file, sampleRate: 16_000)
        #expect(audio.sampleRate == 16_000)
        let size = 16_000
        let middle = Array(audio.samples[8000..<(8000 + size)])
        #expect(peakBin(middle, size: size) == Int((frequency * Double(size) / 16_000).rounded()))
        let levelDB = 20 * log10(TestSupport.rms(middle) / (0.5 / 2.0.squareRoot()))
        #expect(abs(levelDB) < 0.1, "level changed by \(levelDB) dB")
    }

    @Test func rejectsNonPositiveRates() {
        #expect(throws: AudioIOError.self) { try Resampler(from: 0, to: 16_000) }
    }
}
