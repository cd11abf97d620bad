import AudioIO
import Formats
import Foundation
import TestSupport
import Testing

@Suite struct KaiserBestTests {
    /// Against resampy.resample(filter='kaiser_best') on faded-in noise (Tests/Reference/make_resampler_fixtures.py):
    /// down from 44.1, 48 and 22.05 kHz, up from 8 kHz, and 44.1 → 48 kHz (OpenL3's rate).
    @Test(arguments: [(44_100, 16_000), (48_000, 16_000), (22_050, 16_000), (8_000, 16_000), (44_100, 48_000)])
    func equalsResampysKaiserBest(source: Int, target: Int) throws {
        let name = "resample/noise\(source)to\(target)"
        let input = try NPY.read(path: TestSupport.fixture("\(name).input.npy")).floats
        let reference = try NPY.read(path: TestSupport.fixture("\(name).resampy.npy")).floats
        let filter = try #require(KaiserBestFilter(from: source, to: target))
        let ours = filter.convert(input)
        #expect(ours.count == reference.count)
        let error = TestSupport.maxAbsDifference(ours, reference)
        #expect(error <= 1e-5, "\(source) → \(target): max |ours − resampy| \(error)")
    }

    /// A ratio with more phases than the bank allows (44 099 → 16 000: 16 000 phases) falls back to
    /// libsamplerate's best sinc instead of building a huge bank.
    @Test func ratiosWithTooManyPhasesFallBackToLibsamplerate() throws {
        #expect(KaiserBestFilter(from: 44_099, to: 16_000) == nil)
        let input = TestSupport.sine(frequency: 440, seconds: 0.5, sampleRate: 44_099)
        let output = try Resampler.resample(input, from: 44_099, to: 16_000)
        #expect(abs(output.count - input.count * 16_000 / 44_099) <= 1)
    }
}
