import AudioIO
import Foundation
import Formats
import TestSupport
import Testing

/// `--channels each`: every channel of a file is its own input, with the result a mono file of that channel gives.
@Suite struct ChannelTests {
    let folder = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// A 1 s stereo file, 220 Hz on the left and 660 Hz on the right (float WAV, so each channel is exact), and each
    /// channel alone as a mono file.
    func stereo() throws -> (stereo: String, left: String, right: String) {
        let left = TestSupport.sine(frequency: 220, seconds: 1, sampleRate: 16_000).map { $0 * 0.5 }
        let right = TestSupport.sine(frequency: 660, seconds: 1, sampleRate: 16_000).map { $0 * 0.5 }
        try AudioFileWriter.write(path: path("stereo.wav"), samples: zip(left, right).flatMap { [$0, $1] }, channels: 2, sampleRate: 16_000, encoding: .float32)
        try AudioFileWriter.write(path: path("left.wav"), samples: left, sampleRate: 16_000, encoding: .float32)
        try AudioFileWriter.write(path: path("right.wav"), samples: right, sampleRate: 16_000, encoding: .float32)
        return (path("stereo.wav"), path("left.wav"), path("right.wav"))
    }

    /// Each channel's pitch track is the mono file's, bit for bit, written as NAME.ch1/ch2.f0.csv; mixing (the
    /// default) gives one track.
    @Test func pitchGivesEachChannelItsMonoTrack() throws {
        let files = try stereo()
        let run = try TestSupport.run(["pitch", files.stereo, "--model", "crepe-tiny", "--channels", "each", "--output-dir", path("f0")])
        #expect(run.status == 0, "\(run.stderr)")
        for (channel, mono) in [(1, files.left), (2, files.right)] {
            let alone = try TestSupport.run(["pitch", mono, "--model", "crepe-tiny"])
            let split = try String(contentsOfFile: path("f0/stereo.ch\(channel).f0.csv"), encoding: .utf8)
            #expect(alone.status == 0 && split == alone.stdout, "channel \(channel)")
        }
        let mixed = try TestSupport.run(["pitch", files.stereo, "--model", "crepe-tiny"])
        #expect(mixed.status == 0 && !mixed.stdout.contains("#"))
    }

    /// classify names each channel in its result, and finds what the mono file of that channel gives.
    @Test func classifyNamesEachChannel() throws {
        let files = try stereo()
        let run = try TestSupport.run(["classify", files.stereo, "--channels", "each", "--clip", "--format", "json"])
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(run.status == 0 && lines.count == 2, "\(run.stderr)")
        for (index, mono) in [files.left, files.right].enumerated() {
            let alone = try TestSupport.run(["classify", mono, "--clip", "--format", "json"])
            #expect(lines[index] == alone.stdout.trimmingCharacters(in: .newlines).replacingOccurrences(of: mono, with: "\(files.stereo) (channel \(index + 1))"))
        }
    }

    /// Several channels need --output-dir for embeddings; a mono file under --channels each is one input as before.
    @Test func embedSplitsChannelsIntoFilesOfTheirOwn() throws {
        let files = try stereo()
        let refused = try TestSupport.run(["embed", files.stereo, "--channels", "each", "--output", path("e.npy")])
        #expect(refused.status == 1 && refused.stderr.contains("2 inputs (channels)"))
        let run = try TestSupport.run(["embed", files.stereo, files.left, "--channels", "each", "--output-dir", path("e")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: path("e")).sorted()
                == ["left.yamnet.npy", "left.yamnet.times.npy", "stereo.ch1.yamnet.npy", "stereo.ch1.yamnet.times.npy",
                    "stereo.ch2.yamnet.npy", "stereo.ch2.yamnet.times.npy"])
        #expect(try NPY.read(path: path("e/stereo.ch1.yamnet.npy")).doubles == NPY.read(path: path("e/left.yamnet.npy")).doubles)
    }

    @Test func aMissingChannelIsNamed() throws {
        let files = try stereo()
        #expect { try AudioFileReader.readMono(path: files.stereo, channel: 2) } throws: { "\($0)".contains("it has 2 channels; there is no channel 3") }
        #expect(try AudioFileReader.channelCount(path: files.stereo) == 2)
    }
}
