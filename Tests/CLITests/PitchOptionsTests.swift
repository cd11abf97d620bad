import Foundation
import TestSupport
import Testing

/// `pitch`'s voicing options from the command line: unvoiced frames leave the frequency empty; bad values are one-line errors.
@Suite struct PitchOptionsTests {
    static let speech = TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path

    /// The pauses of the sample are unvoiced at 0.5 and under a -50 dBFS gate; the speech keeps its frequencies.
    @Test func aVoicingThresholdLeavesUnvoicedFramesEmpty() throws {
        let run = try TestSupport.run(["pitch", Self.speech, "--model", "crepe-tiny", "--voicing-threshold", "0.5", "--silence-db", "-50",
                                       "--median-filter", "3", "--fmin", "60", "--fmax", "500"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let unvoiced = rows.filter { $0[1].isEmpty }.count, voiced = rows.compactMap { Double($0[1]) }
        #expect(unvoiced > 50 && voiced.count > 50, "\(unvoiced) unvoiced, \(voiced.count) voiced")
        #expect(voiced.allSatisfy { $0 >= 55 && $0 <= 520 })
    }

    @Test func badVoicingOptionsAreOneLineErrors() throws {
        for options in [["--voicing-threshold", "1.5"], ["--median-filter", "4"], ["--fmin", "500", "--fmax", "100"], ["--silence-db", "10"],
                        ["--decoder", "argmax", "--viterbi"], ["--fmin", "-3"]] {
            let run = try TestSupport.run(["pitch", Self.speech, "--model", "crepe-tiny"] + options)
            #expect(run.status == 1 && run.stderr.hasPrefix("Error:") && run.stderr.split(separator: "\n").count == 1, "\(options): \(run.stderr)")
        }
    }
}
