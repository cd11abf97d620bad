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
