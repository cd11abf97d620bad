import Formats
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

    /// JSON (`jsonl` too) and npz hold the CSV's track: the same times, frequencies (null / NaN where unvoiced) and
    /// confidences.
    @Test func jsonAndNpzHoldTheCSVsTrack() throws {
        let options = ["pitch", Self.speech, "--model", "crepe-tiny", "--voicing-threshold", "0.5"]
        let csv = try TestSupport.run(options)
        let rows = csv.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let json = try TestSupport.run(options + ["--format", "jsonl"])
        #expect(csv.status == 0 && json.status == 0 && json.stdout.split(separator: "\n").count == 1, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let frequencies = object["frequency"] as! [Any], confidences = object["confidence"] as! [Double]
        #expect(object["model"] as? String == "crepe-tiny" && frequencies.count == rows.count && confidences.count == rows.count)
        #expect(zip(rows, frequencies).allSatisfy { row, value in row[1].isEmpty ? value is NSNull : abs(Double(row[1])! - (value as! Double)) < 1e-3 })
        let folder = TestSupport.temporaryDirectory()
        let archive = folder.appendingPathComponent("track.npz").path
        let npz = try TestSupport.run(options + ["--format", "npz", "--output", archive])
        #expect(npz.status == 0, "\(npz.stderr)")
        let arrays = try NPZ.read(path: archive)
        let times = arrays["time"]!.doubles, hertz = arrays["frequency"]!.doubles, confidence = arrays["confidence"]!.doubles
        #expect(times.count == rows.count && hertz.filter(\.isNaN).count == rows.filter { $0[1].isEmpty }.count)
        #expect(zip(rows, zip(times, confidence)).allSatisfy { abs(Double($0[0])! - $1.0) < 1e-3 && abs(Double($0[2])! - $1.1) < 1e-6 })
    }

    /// `--embedding` writes the rows `embed --model crepe-tiny` writes (the same network, node and framing).
    @Test func pitchEmbeddingIsEmbedsCREPERows() throws {
        let folder = TestSupport.temporaryDirectory()
        let fromPitch = folder.appendingPathComponent("pitch.npy").path, fromEmbed = folder.appendingPathComponent("embed.npy").path
        let pitch = try TestSupport.run(["pitch", Self.speech, "--model", "crepe-tiny", "--embedding", fromPitch, "--output", folder.appendingPathComponent("f0.csv").path])
        let embed = try TestSupport.run(["embed", Self.speech, "--model", "crepe-tiny", "--output", fromEmbed])
        #expect(pitch.status == 0 && embed.status == 0, "\(pitch.stderr)\(embed.stderr)")
        let a = try NPY.read(path: fromPitch), b = try NPY.read(path: fromEmbed)
        #expect(a.shape == b.shape && a.shape.count == 2 && a.shape[1] == 256 && a.doubles == b.doubles, "\(a.shape) \(b.shape)")
    }

    /// `--plot` writes a PNG or SVG beside the CSV for one input (the pictures themselves: PlotTests); several inputs,
    /// or a spectrogram with neither output, are one-line errors.
    @Test func plotsAreWrittenForOneInput() throws {
        let folder = TestSupport.temporaryDirectory()
        for (command, name) in [(["pitch", Self.speech, "--model", "crepe-tiny", "--output", folder.appendingPathComponent("f0.csv").path], "pitch.svg"),
                                (["classify", Self.speech], "events.png"), (["spectrogram", Self.speech], "mel.png")] {
            let run = try TestSupport.run(command + ["--plot", folder.appendingPathComponent(name).path])
            let size = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            #expect(run.status == 0 && size > 10_000, "\(command[0]): \(run.stderr) \(size) bytes")
        }
        for command in [["pitch", Self.speech, Self.speech, "--model", "crepe-tiny", "--plot", "p.png"], ["classify", Self.speech, Self.speech, "--plot", "e.png"],
                        ["spectrogram", Self.speech], ["spectrogram", Self.speech, "--plot", "s.png", "--patches"]] {
            let run = try TestSupport.run(command)
            #expect(run.status == 1 && run.stderr.hasPrefix("Error:") && run.stderr.split(separator: "\n").count == 1, "\(command): \(run.stderr)")
        }
    }

    @Test func badVoicingOptionsAreOneLineErrors() throws {
        for options in [["--voicing-threshold", "1.5"], ["--median-filter", "4"], ["--fmin", "500", "--fmax", "100"], ["--silence-db", "10"],
                        ["--decoder", "argmax", "--viterbi"], ["--fmin", "-3"], ["--hysteresis", "0.5"], ["--hysteresis", "0.4,0.2"],
                        ["--hysteresis", "0.2,0.3", "--voicing-threshold", "0.5"], ["--format", "npz"], ["--format", "xml"], ["--plot", "track.jpg"]] {
            let run = try TestSupport.run(["pitch", Self.speech, "--model", "crepe-tiny"] + options)
            #expect(run.status == 1 && run.stderr.hasPrefix("Error:") && run.stderr.split(separator: "\n").count == 1, "\(options): \(run.stderr)")
        }
    }
}
