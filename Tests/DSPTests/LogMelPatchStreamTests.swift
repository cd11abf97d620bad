import AudioIO
import DSP
import Foundation
import NetCore
import TestSupport
import Testing

/// Patches cut from a signal given a block at a time equal, bit for bit, the patches of the whole signal.
@Suite struct LogMelPatchStreamTests {
    /// Real speech (Samples/speech.wav at 16 kHz), cut or repeated to `count` samples.
    static func speech(_ count: Int) throws -> [Float] {
        let samples = try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/speech.wav").path,
                                                   sampleRate: 16_000).samples
        return (0..<count).map { samples[$0 % samples.count] }
    }

    /// The streamed patches of `signal` in blocks of `block` samples.
    static func streamed(_ signal: [Float], frontEnd: LogMelFrontEnd, block: Int) -> Tensor {
        var stream = LogMelPatchStream(frontEnd)
        var scalars: [Float] = []
        for start in stride(from: 0, to: signal.count, by: block) {
            scalars += stream.append(Array(signal[start..<min(start + block, signal.count)])).scalars
        }
        scalars += stream.finish().scalars
        let size = frontEnd.patchFrames * frontEnd.melBands
        return Tensor(shape: [scalars.count / size, frontEnd.patchFrames, frontEnd.melBands], scalars: scalars)
    }

    // Lengths: shorter than a window, than a patch, exactly a patch (15,600 samples), 3.3 s and 5 samples more.
    @Test(arguments: [300, 9_000, 15_600, 52_800, 52_805])
    func streamedPatchesEqualTheWholeSignalsBitForBit(_ length: Int) throws {
        let signal = try Self.speech(length)
        for frontEnd in [LogMelFrontEnd.yamnet, .yamnet.withPatchHop(7), .vggish] {
            let whole = frontEnd.logMelPatches(signal)
            for block in [1_000, 161, 4_097, 65_536] where block < 4_097 || length > 10_000 {
                let streamed = Self.streamed(signal, frontEnd: frontEnd, block: block)
                #expect(streamed.shape == whole.shape && streamed.scalars == whole.scalars,
                        "\(frontEnd.name) hop \(frontEnd.patchHop), \(length) samples in blocks of \(block): \(streamed.shape) vs \(whole.shape)")
            }
        }
    }

    /// 12 s of the CLI's live-input recording (speech, a sweep resampled from 44.1 kHz, speech; written as 16-bit PCM
    /// and read back): two frames share a transform, and a frame's last bit can depend on its partner — frame 984,
    /// paired from odd frames by blocks of 1,000 or 65,536 samples, differed from the whole signal's by one ulp in band
    /// 49 until the stream made its frames in pairs from even frames, as the whole signal's are made.
    @Test(arguments: [161, 320, 1_000, 65_536])
    func aRecordingsStreamedPatchesEqualItsWholePatchesBitForBit(_ block: Int) throws {
        let parts = try ["speech-between-silences", "sweep", "speech"].flatMap {
            try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/\($0).wav").path,
                                         sampleRate: 16_000).samples
        }
        let path = TestSupport.temporaryDirectory().appendingPathComponent("recording.wav").path
        try AudioFileWriter.write(path: path, samples: Array(parts.prefix(12 * 16_000)), sampleRate: 16_000)
        let signal = try AudioFileReader.readMono(path: path).samples
        let whole = LogMelFrontEnd.yamnet.logMelPatches(signal)
        let streamed = Self.streamed(signal, frontEnd: .yamnet, block: block)
        #expect(streamed.shape == whole.shape && streamed.scalars == whole.scalars,
                "blocks of \(block): \(zip(streamed.scalars, whole.scalars).filter { $0 != $1 }.count) values differ")
    }

    /// What the stream holds stays the same whatever the signal's length: it keeps the samples and frames the next
    /// patch needs.
    @Test func aStreamReturnsEachPatchOnceItsFramesAreIn() throws {
        var stream = LogMelPatchStream(.yamnet)
        let signal = try Self.speech(16_000 * 5)
        // 0.975 s: one patch's 96 frames of 25 ms every 10 ms (15,600 samples), not yet a second one.
        #expect(stream.append(Array(signal[0..<15_600])).shape == [1, 96, 64])
        #expect(stream.append(Array(signal[15_600..<23_279])).shape[0] == 0)  // the second patch needs 23,280
        #expect(stream.append([signal[23_279]]).shape[0] == 1)
        #expect(stream.patchesMade == 2)
    }
}
