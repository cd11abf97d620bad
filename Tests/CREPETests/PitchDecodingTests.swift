import AudioNet
import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// Decoders, frequency range, voicing threshold and median filter against torchcrepe's on the same probabilities
/// (Tests/Reference/make_pitch_decoding_fixtures.py: the full model on 2 s of speech and a pause).
@Suite struct PitchDecodingTests {
    static let fixture = try! NPZ.read(path: TestSupport.fixture("crepe/decoding.npz"))
    static let activation: Tensor = {
        let array = fixture["probabilities.npy"] ?? fixture["probabilities"]!
        return Tensor(shape: array.shape, scalars: array.doubles.map { Float($0) })
    }()

    static func values(_ name: String) -> [Double] { (fixture[name + ".npy"] ?? fixture[name]!).doubles }

    /// A decoder-only estimator: decoding needs no weights.
    static let estimator = PitchEstimator(capacity: .tiny, network: Network(inputShape: [1024, 1, 1]))

    func decode(_ decoding: PitchDecoding) throws -> PitchTrack {
        try Self.estimator.decode(Self.activation, hop: 160, decoding: decoding)
    }

    /// The argmax decoder picks torchcrepe's bins, with and without its fmin/fmax mask (100–400 Hz masks most of the
    /// pause's bins, so the two differ in most frames).
    @Test func argmaxBinsAreTorchcrepes() throws {
        let all = try decode(PitchDecoding(decoder: .argmax))
        #expect(all.bins == Self.values("argmax_bins").map { Int($0) })
        let ranged = try decode(PitchDecoding(decoder: .argmax, minimumFrequency: 100, maximumFrequency: 400))
        #expect(ranged.bins == Self.values("range_bins").map { Int($0) })
        #expect(zip(all.bins, ranged.bins).filter { $0 != $1 }.count > 100)
        #expect(ranged.frequencies.allSatisfy { $0 >= 95 && $0 <= 410 })
    }

    /// The weighted decoder is marl/crepe's average; torchcrepe's differs by its ±20-cent dither and second sigmoid,
    /// so voiced frames (confidence ≥ 0.5) agree within 20 cents, and on average within 6.
    @Test func weightedPitchIsWithinTorchcrepesDither() throws {
        let ours = try decode(PitchDecoding(decoder: .weighted)), theirs = Self.values("weighted_hz")
        let voiced = ours.confidences.indices.filter { ours.confidences[$0] >= 0.5 }
        #expect(voiced.count > 100)
        let differences = voiced.map { abs(1200 * log2(ours.frequencies[$0] / theirs[$0])) }
        #expect(differences.max()! <= 20 && differences.reduce(0, +) / Double(differences.count) <= 6,
                "largest \(differences.max()!) cents, mean \(differences.reduce(0, +) / Double(differences.count))")
    }

    /// torchcrepe's Viterbi runs on the softmax of sigmoid outputs, which is nearly flat: on these probabilities its
    /// path stays at bin 0 throughout (the agreement is printed). AudioNet's is marl/crepe's: within a semitone (5 bins)
    /// of the argmax in at least 95 % of the confident frames, leaving out the isolated jumps the argmax makes.
    @Test func viterbiFollowsTheConfidentFrames() throws {
        let ours = try decode(PitchDecoding(decoder: .viterbi)), argmax = Self.values("argmax_bins").map { Int($0) }
        let theirs = Self.values("viterbi_bins").map { Int($0) }
        let agreement = Double(zip(ours.bins, theirs).filter { abs($0 - $1) <= 1 }.count) / Double(theirs.count)
        print("Viterbi: \(Int(agreement * 100)) % of frames within a bin of torchcrepe's")
        let confident = ours.bins.indices.filter { Self.activation.scalars[$0 * 360 + argmax[$0]] >= 0.5 }
        let following = confident.filter { abs(ours.bins[$0] - argmax[$0]) <= 5 }.count
        #expect(confident.count > 100 && Double(following) >= 0.95 * Double(confident.count), "\(following) of \(confident.count)")
    }

    /// The median filter is torchcrepe's `filter.median` on the periodicity; the voicing threshold its `threshold.At`.
    @Test func medianFilterAndVoicingThresholdAreTorchcrepes() throws {
        let periodicity = Self.values("periodicity")
        for window in [3, 5] {
            let filtered = CREPE.medianFiltered(periodicity, window: window), reference = Self.values("median\(window)")
            #expect(zip(filtered, reference).allSatisfy { abs($0 - $1) <= 1e-7 }, "window \(window)")
        }
        let voiced = try decode(PitchDecoding(decoder: .argmax, voicingThreshold: 0.5)), reference = Self.values("pitch_at_half")
        #expect(voiced.frequencies.map(\.isNaN) == reference.map(\.isNaN))
        #expect(zip(voiced.frequencies, reference).allSatisfy { $0.isNaN || abs(1200 * log2($0 / $1)) <= 20 })  // torchcrepe dithers argmax too
        // The filter after the threshold skips the unvoiced frames instead of mixing them in.
        let smoothed = try decode(PitchDecoding(decoder: .argmax, voicingThreshold: 0.5, medianWindow: 3))
        #expect(smoothed.frequencies.filter { !$0.isNaN }.allSatisfy { $0 > 50 })
    }

    /// Hysteresis voices the frames torchcrepe's `threshold.Hysteresis` voices, at its default bounds (which voice more
    /// frames than a 0.5 threshold) and at strict ones (which drop runs that never reach 0.9).
    @Test func hysteresisVoicesTorchcrepesFrames() throws {
        let atHalf = Self.values("pitch_at_half").map(\.isNaN)
        for (bounds, name) in [(PitchDecoding.Hysteresis(), "pitch_hysteresis"), (PitchDecoding.Hysteresis(lower: 0.3, upper: 0.9), "pitch_hysteresis_strict")] {
            let track = try decode(PitchDecoding(decoder: .argmax, hysteresis: bounds)), reference = Self.values(name).map(\.isNaN)
            #expect(track.frequencies.map(\.isNaN) == reference, "\(name): \(zip(track.frequencies, reference).filter { $0.0.isNaN != $0.1 }.count) frames differ")
            #expect(reference != atHalf)
        }
    }

    @Test func localAverageOfOneBinIsThatBinsCents() {
        var row = [Float](repeating: 0, count: 360)
        row[100] = 1
        #expect(abs(CREPE.localAverageCents(row[...]) - CREPE.cents(ofBin: 100)) < 1e-9)
        #expect(CREPE.localAverageCents([Float](repeating: 0, count: 360)[...]).isNaN)
    }

    @Test func viterbiIgnoresAnIsolatedOctaveJump() {
        var activations = [Float](repeating: 0, count: 20 * 360)
        for frame in 0..<20 { activations[frame * 360 + (frame == 10 ? 160 : 100)] = 0.9 }
        let path = CREPE.viterbiPath(activations, frames: 20)
        #expect(path.allSatisfy { abs($0 - 100) <= 11 }, "\(path)")
    }

    /// The silence gate zeroes the confidence of frames below the level, so the threshold unvoices them.
    @Test func silentFramesAreUnvoiced() throws {
        let samples = [Float](repeating: 0, count: 8000) + TestSupport.sine(frequency: 220, seconds: 0.5, sampleRate: 16_000).map { $0 * 0.5 }
        let estimator = try PitchEstimator.crepe(.tiny)
        let gated = try estimator.estimate(samples: samples, decoding: PitchDecoding(voicingThreshold: 0.3, silenceDecibels: -60))
        #expect(gated.frequencies[5..<40].allSatisfy { $0.isNaN })
        #expect(gated.frequencies[60..<90].allSatisfy { abs(1200 * log2($0 / 220)) <= 25 })
    }
}
