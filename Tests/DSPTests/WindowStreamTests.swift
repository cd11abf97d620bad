import AudioIO
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// Windows cut from a signal given a block at a time (CREPE's frames, OpenL3's 1 s windows) equal, bit for bit, the
/// windows of the whole signal, with the same times, for signals shorter than a window, of exactly one, and longer;
/// the stream keeps at most twice the samples the next window and the block read.
@Suite struct WindowStreamTests {
    /// Speech at `rate`, cut or repeated to `count` samples.
    static func speech(_ count: Int, rate: Int) throws -> [Float] {
        let samples = try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/speech.wav").path,
                                                   sampleRate: rate).samples
        return (0..<count).map { samples[$0 % samples.count] }
    }

    @Test(arguments: [("crepe-tiny", [0, 1, 511, 1_024, 1_700, 16_000, 40_161]), ("openl3-mel128-env-512", [1, 23_999, 48_000, 52_801, 100_000])])
    func streamedWindowsEqualTheWholeSignalsBitForBit(_ name: String, _ lengths: [Int]) throws {
        let input = try #require(Networks.named(name)?.audio?(name))
        let windows = try #require(input.windows)
        for hopSeconds in [input.hop.defaultSeconds, 0.0237] {
            for length in lengths {
                let signal = try Self.speech(length, rate: input.sampleRate)
                let whole = input.examples(signal, hopSeconds)
                let expected = whole.make(0, whole.count)
                for block in [7_919, 160, 65_536] where block > 1_000 || length < 20_000 {
                    var stream = try #require(input.exampleStream(hopSeconds: hopSeconds))
                    var scalars: [Float] = []
                    for start in stride(from: 0, to: signal.count, by: block) {
                        scalars += stream.append(Array(signal[start..<min(start + block, signal.count)])).scalars
                        let kept = (stream as! WindowStream).samples.count
                        #expect(kept <= 2 * (windows.length + block), "\(name): \(kept) samples kept after \(start + block)")
                    }
                    scalars += stream.finish().scalars
                    let label = "\(name) hop \(hopSeconds), \(length) samples in blocks of \(block)"
                    #expect(scalars == expected.scalars, "\(label): \(scalars.count) values, \(expected.scalars.count) whole")
                    #expect((0..<whole.count).map { stream.time(ofExample: $0) } == whole.times, "\(label)")
                }
            }
        }
        #expect(windows.complete(received: windows.length - windows.leftPadding - 1, hop: 160) == 0)
        #expect(windows.complete(received: windows.length - windows.leftPadding, hop: 160) == 1)
        for count in [1, 2, 7] {  // the samples `count` windows need complete `count` windows and no more
            let needed = windows.received(forComplete: count, hop: 160)
            #expect(windows.complete(received: needed, hop: 160) == count && windows.complete(received: needed - 1, hop: 160) == count - 1)
        }
    }
}
