import AudioIO
import Foundation
import TestSupport
import Testing

/// A stream read from a pipe (standard input) gives the samples its file gives, whatever its format, and a stream
/// that is cut, garbled or changes format is a one-line error.
@Suite struct PipeStreamTests {
    let directory = TestSupport.temporaryDirectory()

    /// Speech, a sweep and a tone: 17 s of varied sound at 44.1 kHz.
    static let signal: [Float] = try! ["speech-between-silences", "sweep", "speech", "tone-a440-stereo"].flatMap {
        try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/\($0).wav").path, sampleRate: 44_100).samples
    }

    /// All samples of `bytes` sent through a pipe in `chunk`-byte writes (a writer thread), read at `sampleRate`.
    static func readThroughPipe(_ bytes: [UInt8], raw: RawPCM? = nil, sampleRate: Int? = nil, chunk: Int = 4_096) throws -> [Float] {
        let pipe = Pipe()
        let writer = Thread {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                try? pipe.fileHandleForWriting.write(contentsOf: Data(bytes[offset..<end]))
                offset = end
            }
            try? pipe.fileHandleForWriting.close()
        }
        writer.start()
        defer { while !writer.isFinished { usleep(1_000) } }
        // The pipe is drained whatever happens, so the writer is never left blocked.
        defer { _ = try? pipe.fileHandleForReading.readToEnd() }
        let stream = try AudioFileStream(reading: PipeSource(descriptor: pipe.fileHandleForReading.fileDescriptor, name: "standard input"),
                                         raw: raw, sampleRate: sampleRate)
        var samples: [Float] = []
        while let block = try stream.readBlock() { samples += block }
        return samples
    }

    func file(_ name: String, container: AudioFileWriter.Container = .wav, encoding: AudioFileWriter.Encoding = .pcm16,
              channels: Int = 1) throws -> (path: String, bytes: [UInt8]) {
        let path = directory.appendingPathComponent(name).path
        let samples = channels == 1 ? Self.signal : Self.signal.flatMap { [$0, -0.5 * $0] }
        try AudioFileWriter.write(path: path, samples: samples, channels: channels, sampleRate: 44_100, container: container, encoding: encoding)
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test(arguments: [("wav", AudioFileWriter.Container.wav, AudioFileWriter.Encoding.pcm16, 1),
                      ("wav", .wav, .float32, 2), ("flac", .flac, .pcm16, 2), ("ogg", .oggVorbis, .pcm16, 1), ("aiff", .aiff, .pcm24, 1)])
    func aPipedStreamGivesItsFilesSamples(_ name: String, _ container: AudioFileWriter.Container, _ encoding: AudioFileWriter.Encoding,
                                          _ channels: Int) throws {
        let (path, bytes) = try file("piped.\(name)", container: container, encoding: encoding, channels: channels)
        for rate in [nil, 16_000] {
            let fromFile = try AudioFileReader.readMono(path: path, sampleRate: rate).samples
            let piped = try Self.readThroughPipe(bytes, sampleRate: rate, chunk: 1_000)
            #expect(piped == fromFile, "\(name) at \(rate ?? 44_100) Hz: \(piped.count) samples against \(fromFile.count)")
        }
    }

    @Test func rawPCMGivesTheSamplesItsLayoutSays() throws {
        let samples = Array(Self.signal.prefix(44_100 * 3))
        let s16 = samples.flatMap { sample -> [UInt8] in
            let value = Int16(max(-32_768, min(32_767, (sample * 32_768).rounded())))
            return withUnsafeBytes(of: value.littleEndian, Array.init)
        }
        let f32 = samples.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        #expect(try Self.readThroughPipe(f32, raw: RawPCM(sampleRate: 44_100, encoding: .f32)) == samples)
        let fromIntegers = try Self.readThroughPipe(s16, raw: RawPCM(sampleRate: 44_100, encoding: .s16))
        #expect(TestSupport.maxAbsDifference(fromIntegers, samples) <= 0.5 / 32_768)
        // The same bytes as two channels: half the frames, each the mean of a pair.
        let stereo = try Self.readThroughPipe(s16, raw: RawPCM(sampleRate: 44_100, encoding: .s16, channels: 2))
        #expect(stereo.count == samples.count / 2)
        #expect(abs(stereo[100] - (fromIntegers[200] + fromIntegers[201]) / 2) <= 1e-7)
    }

    /// sox writing to a pipe cannot go back to fill in the sizes: its header announces 0x7FFFF000 bytes.
    @Test func aLiveStreamsPlaceholderHeaderIsReadToTheEndOfThePipe() throws {
        var (_, bytes) = try file("placeholder.wav")
        for offset in [4, 40] {
            let size = offset == 4 ? UInt32(0x7FFF_F024) : UInt32(0x7FFF_F000)
            withUnsafeBytes(of: size.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
        }
        #expect(try Self.readThroughPipe(bytes) == (try AudioFileReader.readMono(path: file("exact.wav").path).samples))
        // Cut after an odd number of bytes: the stream ends within a sample.
        let cut = Array(bytes.prefix(44 + 2 * 1_000 + 1))
        #expect(throws: AudioIOError.unreadable(path: "standard input", reason: "the stream ends in the middle of a sample frame (2001 bytes of samples, frames of 2)")) {
            try Self.readThroughPipe(cut)
        }
    }

    @Test func aStreamCutShortOfItsHeadersSizeIsTruncated() throws {
        let (_, bytes) = try file("cut.wav")
        #expect(throws: AudioIOError.truncated(path: "standard input", announcedBytes: bytes.count - 44, presentBytes: 20_000)) {
            try Self.readThroughPipe(Array(bytes.prefix(44 + 20_000)))
        }
    }

    @Test func aSecondHeaderAfterTheAudioIsAFormatChange() throws {
        let (_, wav) = try file("first.wav")
        let (_, flac) = try file("second.flac", container: .flac)
        for (next, magic) in [(wav, "RIFF"), (flac, "fLaC")] {
            let error = try #require(throws: AudioIOError.self) { try Self.readThroughPipe(wav + next) }
            #expect("\(error)" == "cannot decode 'standard input' as audio: the stream changes format after \(Self.signal.count) frames: another header (\(magic)) follows its audio")
        }
        // Bytes after the samples that are not a header (a trailing chunk) are left alone.
        #expect(try Self.readThroughPipe(wav + Array("LIST\u{4}\0\0\0abcd".utf8)).count == Self.signal.count)
    }

    @Test func anEmptyOrGarbledStreamIsOneLine() throws {
        #expect(throws: AudioIOError.unreadable(path: "standard input", reason: "the stream is empty")) { try Self.readThroughPipe([]) }
        let error = try #require(throws: AudioIOError.self) { try Self.readThroughPipe(Array(String(repeating: "not audio at all\n", count: 100).utf8)) }
        #expect("\(error)".hasPrefix("cannot decode 'standard input' as audio: ") && !"\(error)".contains("\n"), "\(error)")
    }
}
