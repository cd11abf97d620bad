import AudioIO
import Foundation
import TestSupport
import Testing

@Suite struct AudioFileReaderTests {
    let directory = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @Test func everyWAVEncodingDecodesToTheSameSignal() throws {
        let signal = TestSupport.sine(frequency: 440, seconds: 0.5, sampleRate: 16_000)
        for (name, encoding, tolerance) in [("16", AudioFileWriter.Encoding.pcm16, Float(1.0 / 32768)),
                                            ("24", .pcm24, 1e-6), ("32", .pcm32, 1e-6), ("f", .float32, 0)] {
            try AudioFileWriter.write(path: path("\(name).wav"), samples: signal, sampleRate: 16_000, encoding: encoding)
            let audio = try AudioFileReader.readMono(path: path("\(name).wav"))
            #expect(audio.sampleRate == 16_000)
            #expect(TestSupport.maxAbsDifference(audio.samples, signal) <= tolerance, "encoding \(name)")
        }
    }

    @Test func flacAiffAndOggDecode() throws {
        let signal = TestSupport.sine(frequency: 440, seconds: 0.5, sampleRate: 16_000)
        try AudioFileWriter.write(path: path("a.flac"), samples: signal, sampleRate: 16_000, container: .flac)
        try AudioFileWriter.write(path: path("a.aiff"), samples: signal, sampleRate: 16_000, container: .aiff)
        try AudioFileWriter.write(path: path("a.ogg"), samples: signal, sampleRate: 16_000, container: .oggVorbis)
        #expect(TestSupport.maxAbsDifference(try AudioFileReader.readMono(path: path("a.flac")).samples, signal) <= 1.0 / 32768)
        #expect(TestSupport.maxAbsDifference(try AudioFileReader.readMono(path: path("a.aiff")).samples, signal) <= 1.0 / 32768)
        let ogg = try AudioFileReader.readMono(path: path("a.ogg")).samples
        #expect(ogg.count == signal.count)
        #expect(abs(TestSupport.rms(ogg) - TestSupport.rms(signal)) < 0.01)  // lossy codec: level only
    }

    @Test func stereoIsMixedToMonoByTheMeanOfChannels() throws {
        let left = TestSupport.sine(frequency: 300, seconds: 0.25, sampleRate: 16_000)
        let right = TestSupport.sine(frequency: 700, amplitude: 0.25, seconds: 0.25, sampleRate: 16_000)
        let interleaved = zip(left, right).flatMap { [$0, $1] }
        try AudioFileWriter.write(path: path("stereo.wav"), samples: interleaved, channels: 2, sampleRate: 16_000,
                                  encoding: .float32)
        let mono = try AudioFileReader.readMono(path: path("stereo.wav")).samples
        #expect(TestSupport.maxAbsDifference(mono, zip(left, right).map { ($0 + $1) / 2 }) < 1e-7)
    }

    @Test func longFilesStreamAcrossBlocksAndChunksLikeOneShotResampling() throws {
        // 23 decoder blocks and about three resampler chunks: neither boundary may leave a seam.
        let count = 1_500_000
        var generator = SeededGenerator(seed: 11)
        let noise = (0..<count).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
        try AudioFileWriter.write(path: path("long.wav"), samples: noise, sampleRate: 44_100, encoding: .float32)
        let streamed = try AudioFileReader.readMono(path: path("long.wav"), sampleRate: 16_000).samples
        let oneShot = try Resampler.resample(noise, from: 44_100, to: 16_000)
        #expect(streamed.count == oneShot.count)
        #expect(TestSupport.maxAbsDifference(streamed, oneShot) < 1e-5)
        #expect(abs(streamed.count - count * 16_000 / 44_100) <= 1)
    }

    @Test func missingFileIsReported() {
        #expect(throws: AudioIOError.fileNotFound(path: path("absent.wav"))) {
            try AudioFileReader.readMono(path: path("absent.wav"))
        }
    }

    /// A sample rate below 1 kHz is refused before anything is resampled (a 4 KB file at 1 Hz became 128 MB at
    /// 16 kHz); 1 kHz itself is read.
    @Test func sampleRatesBelowOneKilohertzAreRefused() throws {
        let samples = [Float](repeating: 0.25, count: 2000)
        for rate in [1, 100, 999] {
            try AudioFileWriter.write(path: path("slow.wav"), samples: samples, sampleRate: rate)
            #expect { try AudioFileReader.readMono(path: path("slow.wav"), sampleRate: 16_000) } throws: {
                "\($0)".contains("sample rate is \(rate) Hz")
            }
        }
        try AudioFileWriter.write(path: path("slow.wav"), samples: samples, sampleRate: 1000)
        #expect(try AudioFileReader.readMono(path: path("slow.wav"), sampleRate: 16_000).samples.count == 32_000)
    }

    @Test func zeroSampleWAVIsEmpty() throws {
        try AudioFileWriter.write(path: path("empty.wav"), samples: [], sampleRate: 16_000)
        #expect(throws: AudioIOError.empty(path: path("empty.wav"))) { try AudioFileReader.readMono(path: path("empty.wav")) }
    }

    @Test func textFileNamedWAVIsUnreadable() throws {
        try "not audio at all\n".write(toFile: path("text.wav"), atomically: true, encoding: .utf8)
        #expect {
            try AudioFileReader.readMono(path: path("text.wav"))
        } throws: { error in
            if case AudioIOError.unreadable = error { return true } else { return false }
        }
    }

    @Test func truncatedWAVIsReportedNotSilentlyShortened() throws {
        try AudioFileWriter.write(path: path("full.wav"), samples: [Float](repeating: 0.1, count: 16_000), sampleRate: 16_000)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("full.wav")))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path("cut.wav")))
        #expect {
            try AudioFileReader.readMono(path: path("cut.wav"))
        } throws: { error in
            if case AudioIOError.truncated = error { return true } else { return false }
        }
    }

    /// NaN, infinities and absurd values (a float WAV of 1e30 once classified as all-zero scores) are refused
    /// with the frame of the first one, in a mono file and in a stereo one's second channel; a loud but plausible
    /// sample is kept.
    @Test(arguments: [Float.nan, .infinity, -.infinity, 1e30, -2000])
    func sampleOutsideTheModelsRangeIsRejectedWithItsFrame(value: Float) throws {
        for channels in [1, 2] {
            var samples = [Float](repeating: 0.5, count: 1000 * channels)
            samples[123 * channels + channels - 1] = value
            samples[500 * channels] = value
            try AudioFileWriter.write(path: path("bad.wav"), samples: samples, channels: channels, sampleRate: 16_000, encoding: .float32)
            do {
                _ = try AudioFileReader.readMono(path: path("bad.wav"))
                Issue.record("a sample of \(value) was accepted (\(channels) channels)")
            } catch let AudioIOError.sampleOutOfRange(_, frame, found) {
                #expect(frame == 123, "\(channels) channels")
                #expect(found.isNaN == value.isNaN && (value.isNaN || found == value))
            }
        }
    }

    @Test func loudButPlausibleSamplesAreRead() throws {
        let samples: [Float] = [0, 999, -999, 0.25]
        try AudioFileWriter.write(path: path("loud.wav"), samples: samples, sampleRate: 16_000, encoding: .float32)
        #expect(try AudioFileReader.readMono(path: path("loud.wav")).samples == samples)
    }
}
