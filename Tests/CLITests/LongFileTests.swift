import AudioIO
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
}
