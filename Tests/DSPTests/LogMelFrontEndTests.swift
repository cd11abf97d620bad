import AudioIO
import AudioNet
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
        #expect(LogMelFrontEnd.yamnet.padded([Float](repeating: 0, count: 15_600)).count == 15_600)
        #expect(LogMelFrontEnd.yamnet.padded([Float](repeating: 0, count: 15_601)).count == 15_600 + 7680)
    }

    /// VGGish's reference emits no example for a clip under 0.96 s; AudioNet pads it to one, as YAMNet does.
    @Test func vggishPadsLessThanOneExampleToOne() {
        #expect(LogMelFrontEnd.vggish.logMelPatches([Float](repeating: 0, count: 1000)).shape == [1, 96, 64])
        #expect(LogMelFrontEnd.vggish.padded([Float](repeating: 0, count: 20_000)).count == 20_000)
    }

    @Test func melFilterbankZeroesDCAndPeaksAtOne() {
        let bank = LogMelFrontEnd.yamnet.filterbank
        #expect(bank.weights[0..<bank.melBands].allSatisfy { $0 == 0 })
        #expect(bank.weights.max()! <= 1)
        #expect(bank.weights.allSatisfy { $0 >= 0 })
    }

    @Test func fftMatchesDirectDFT() {
        let size = 16
        let input = (0..<size).map { sin(Double($0) * 0.7) + 0.1 * Double($0) }
        var frame = input
        var spectrum = [Double](repeating: 0, count: 2 * (size / 2 + 1))
        RealFFT.plan(size: size).forward(&frame, &spectrum)
        for k in 0...(size / 2) {
            var re = 0.0, im = 0.0
            for n in 0..<size {
                re += input[n] * cos(2 * Double.pi * Double(k * n) / Double(size))
                im -= input[n] * sin(2 * Double.pi * Double(k * n) / Double(size))
            }
            #expect(abs(spectrum[2 * k] - re) < 1e-9 && abs(spectrum[2 * k + 1] - im) < 1e-9)
        }
        #expect(frame == input, "the transform must not modify its input")
    }
}
