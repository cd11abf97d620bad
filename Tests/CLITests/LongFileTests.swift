import AudioIO
import Formats
import Foundation
import TestSupport
import Testing

/// Commands that read a file as a stream cost what a short file costs, whatever its length (peak RSS measured by
/// GNU time around the command), and a sample that fails late still fails the whole file.
@Suite struct LongFileTests {
    /// A tone with a little noise, `seconds` long at 16 kHz.
    static func recording(seconds: Int, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("\(seconds)s.wav").path
        var generator = SystemRandomNumberGenerator()
        let samples = (0..<seconds * 16_000).map { n in
            Float(0.3 * sin(2 * Double.pi * 220 * Double(n) / 16_000)) + Float.random(in: -0.01...0.01, using: &generator)
        }
        try AudioFileWriter.write(path: path, samples: samples, sampleRate: 16_000)
        return path
    }

    /// Peak resident memory in MB of `audionet arguments`, its output written to a file.
    static func peakMegabytes(_ arguments: [String], output: String) throws -> Double {
        let run = try TestSupport.run(arguments + ["--output", output], wrapper: ["/usr/bin/time", "-f", "peak %M"])
        #expect(run.status == 0, "\(run.stderr)")
        let line = try #require(run.stderr.split(separator: "\n").last { $0.hasPrefix("peak ") }, "GNU time's line: \(run.stderr)")
        return try #require(Double(line.dropFirst(5))) / 1024
    }

    /// `pitch` decodes and frames the signal chunk by chunk: 10 minutes peak within 10 % of one minute (it had grown
    /// by 38 MB, the whole signal, and 102 MB against 67 MB in all for crepe-tiny).
    @Test func pitchOfTenMinutesPeaksWhereOneMinutePeaks() throws {
        let folder = TestSupport.temporaryDirectory()
        let short = try Self.recording(seconds: 60, in: folder), long = try Self.recording(seconds: 600, in: folder)
        let output = folder.appendingPathComponent("f0.csv").path
        let shortPeak = try Self.peakMegabytes(["pitch", short, "--model", "crepe-tiny"], output: output)
        let longPeak = try Self.peakMegabytes(["pitch", long, "--model", "crepe-tiny"], output: output)
        #expect(longPeak <= 1.1 * shortPeak, "10 minutes: \(longPeak) MB, 1 minute: \(shortPeak) MB")
        let rows = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").count
        #expect(rows == 1 + 60_001, "every frame of the long file is written")
    }

    /// `pitch --model crepe-full` peaks within the performance issue's 250 MB (10^6 bytes; GNU time counts KiB): its
    /// peak comes with its first batch, and its FFT layers keep their kernels only as spectra (with the weights beside
    /// them it peaked at 258.6 MB).
    @Test func pitchWithCrepeFullPeaksWithin250MB() throws {
        let folder = TestSupport.temporaryDirectory()
        let recording = try Self.recording(seconds: 20, in: folder)
        let peak = try Self.peakMegabytes(["pitch", recording, "--model", "crepe-full"], output: folder.appendingPathComponent("f0.csv").path)
        #expect(peak * 1.048_576 <= 250, "\(peak * 1.048_576) MB")
    }

    /// A NaN 40 s into a file, after the first chunk's frames have run: a one-line error naming it, and the output
    /// that was there before is left as it was (nothing of the file's track is written).
    @Test func aBadSampleAfterTheFirstChunkFailsTheFileAndWritesNothing() throws {
        let folder = TestSupport.temporaryDirectory()
        var samples = TestSupport.sine(frequency: 220, amplitude: 0.3, seconds: 50, sampleRate: 16_000)
        samples[40 * 16_000] = .nan
        let path = folder.appendingPathComponent("late-nan.wav").path, output = folder.appendingPathComponent("f0.csv").path
        try AudioFileWriter.write(path: path, samples: samples, sampleRate: 16_000, encoding: .float32)
        try "earlier track\n".write(toFile: output, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["pitch", path, "--model", "crepe-tiny", "--output", output])
        #expect(run.status != 0)
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains("sample of nan at frame 640000"), "\(run.stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "earlier track\n")
    }

    /// The four samples (speech between silences, a sweep, speech, a tone) at 16 kHz, 17 s of varied sound.
    static func samples() throws -> [Float] {
        try ["speech-between-silences", "sweep", "speech", "tone-a440-stereo"].flatMap {
            try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/\($0).wav").path, sampleRate: 16_000).samples
        }
    }

    /// A 16-bit 16 kHz WAV of `base` repeated to `seconds`, written block by block (10 hours: 1.15 GB).
    static func repeated(_ base: [Float], seconds: Int, to path: String) throws {
        let count = seconds * 16_000
        var header = Data("RIFF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        append(UInt32(36 + 2 * count))
        header.append(contentsOf: Array("WAVEfmt ".utf8))
        append(UInt32(16))
        append(UInt16(1)); append(UInt16(1)); append(UInt32(16_000)); append(UInt32(32_000)); append(UInt16(2)); append(UInt16(16))
        header.append(contentsOf: Array("data".utf8))
        append(UInt32(2 * count))
        FileManager.default.createFile(atPath: path, contents: header)
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? file.close() }
        try file.seekToEnd()
        let pcm = base.map { Int16(max(-32_768, min(32_767, ($0 * 32_768).rounded()))).littleEndian }
        var written = 0
        while written < count {
            let take = min(pcm.count, count - written)
            try file.write(contentsOf: pcm[0..<take].withUnsafeBytes { Data($0) })
            written += take
        }
    }

    /// Peak resident memory in MB of `audionet arguments` with stdout kept in a file.
    static func peakMegabytes(_ arguments: [String], stdout path: String) throws -> Double {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let run = try TestSupport.run(arguments, standardOutput: handle, wrapper: ["/usr/bin/time", "-f", "peak %M"])
        #expect(run.status == 0, "\(run.stderr)")
        let line = try #require(run.stderr.split(separator: "\n").last { $0.hasPrefix("peak ") }, "GNU time's line: \(run.stderr)")
        return try #require(Double(line.dropFirst(5))) / 1024
    }

    /// `classify` and `embed` read the file as it is decoded and keep of each patch only its part in the events, the
    /// mean scores or the rows written, and `pitch` writes its rows as the frames are finished: 10 hours peak within
    /// 10 % of 10 minutes (the whole signal alone was 2.3 GB). Pitch frames are 100 ms apart here so that the 10 hours
    /// run in a minute; their 360,000 rows held until the end had cost 19 MB over its 70.
    @Test func classifyEmbedAndPitchOfTenHoursPeakWhereTenMinutesPeak() throws {
        let folder = TestSupport.temporaryDirectory()
        let base = try Self.samples()
        let short = folder.appendingPathComponent("10min.wav").path, long = folder.appendingPathComponent("10h.wav").path
        let embeddings = folder.appendingPathComponent("embeddings.npy").path
        try Self.repeated(base, seconds: 600, to: short)
        try Self.repeated(base, seconds: 36_000, to: long)
        defer { try? FileManager.default.removeItem(atPath: long); try? FileManager.default.removeItem(atPath: embeddings) }
        for options in [["classify", "--format", "json"], ["classify", "--clip", "--format", "json"], ["embed", "--output", embeddings],
                        ["pitch", "--model", "crepe-tiny", "--step-ms", "100"]] {
            let shortPeak = try Self.peakMegabytes(options + [short], stdout: folder.appendingPathComponent("short.json").path)
            let longPeak = try Self.peakMegabytes(options + [long], stdout: folder.appendingPathComponent("long.json").path)
            #expect(longPeak <= 1.1 * shortPeak, "\(options): 10 hours \(longPeak) MB, 10 minutes \(shortPeak) MB")
            let text = try String(contentsOfFile: folder.appendingPathComponent("long.json").path, encoding: .utf8)
            switch options[1] {
            case "--model":
                // A frame every 1,600 samples of 576 M, centred: 360,001 rows after the header.
                let rows = text.split(separator: "\n")
                #expect(rows.count == 1 + 360_001, "\(rows.count) rows")
                #expect(rows.last?.hasPrefix("36000.000,") == true, "\(rows.last ?? "")")
            case "--clip":
                #expect(text.contains("\"label\":\"Speech\""), "\(text.prefix(300))")
            case "--format":
                // The 17 s pattern holds two stretches of speech, 2,122 times over; the last event ends with the file.
                #expect(text.components(separatedBy: "\"label\":\"Speech\"").count - 1 >= 4_000, "\(text.prefix(300))")
                #expect(text.contains("\"end\":36000.000"))
            default:
                // A 0.96 s patch every 0.48 s over 36,000 s, the last ones padded (yamnet's pad_waveform): 74,999 rows.
                #expect(try NPY.read(path: embeddings).shape == [74_999, 1_024])
            }
        }
    }
}
