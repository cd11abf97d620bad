import AudioIO
import Foundation
import TestSupport
import Testing

/// `-` reads a stream on standard input and `--stream` writes each pitch frame or event as soon as the audio it needs
/// has arrived: a WAV fed through a pipe in small chunks with pauses gives its first output before the stream ends,
/// and in all the output the file gives.
@Suite struct LiveInputTests {
    let directory = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A running `audionet` fed on standard input, its stdout lines collected as they arrive.
    final class LiveRun: @unchecked Sendable {
        let process = Process()
        private let input = Pipe(), output = Pipe(), errors = Pipe()
        private let lock = NSLock()
        private var text = "", errorText = ""
        private let reader = DispatchGroup()

        init(_ arguments: [String]) throws {
            signal(SIGPIPE, SIG_IGN)  // a command that stops reading early makes a write fail, not the tests stop
            process.executableURL = TestSupport.executable
            process.arguments = arguments
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            for (pipe, isOutput) in [(output, true), (errors, false)] {
                reader.enter()
                Thread {
                    // `availableData` returns what has arrived (`read(upToCount:)` waits for the whole count).
                    while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
                        self.lock.withLock { if isOutput { self.text += String(decoding: data, as: UTF8.self) } else { self.errorText += String(decoding: data, as: UTF8.self) } }
                    }
                    self.reader.leave()
                }.start()
            }
        }

        /// Standard output so far.
        var stdout: String { lock.withLock { text } }

        func write(_ bytes: ArraySlice<UInt8>) throws { try input.fileHandleForWriting.write(contentsOf: Data(bytes)) }

        /// Waits (at most `seconds`) until stdout holds a line that `accepts`; whether it does.
        func waitForLine(within seconds: Double, _ accepts: (Substring) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if stdout.split(separator: "\n").contains(where: accepts) { return true }
                usleep(20_000)
            }
            return false
        }

        /// Closes standard input and waits for the end: status, stdout, stderr.
        func finish() throws -> (status: Int32, stdout: String, stderr: String) {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
            reader.wait()
            return (process.terminationStatus, stdout, lock.withLock { errorText })
        }
    }

    /// `seconds` of the samples (speech between silences, a sweep, speech) as a 16 kHz 16-bit WAV file.
    func recording(_ name: String, seconds: Double) throws -> (path: String, bytes: [UInt8]) {
        let samples = try ["speech-between-silences", "sweep", "speech"].flatMap {
            try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/\($0).wav").path, sampleRate: 16_000).samples
        }
        let path = path(name)
        try AudioFileWriter.write(path: path, samples: Array(samples.prefix(Int(seconds * 16_000))), sampleRate: 16_000)
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Feeds `bytes` in chunks of 0.1 s of audio with a 20 ms pause after each; after `firstPart` bytes it waits for
    /// `firstOutput` to be printed — the stream has not ended then.
    func feed(_ run: LiveRun, _ bytes: [UInt8], firstPart: Int, firstOutput: (Substring) -> Bool) throws -> Bool {
        var offset = 0, sawFirstOutput = false
        while offset < bytes.count {
            let end = min(bytes.count, offset + 3_200)
            try run.write(bytes[offset..<end])
            if offset < firstPart && end >= firstPart { sawFirstOutput = run.waitForLine(within: 60, firstOutput) }
            offset = end
            usleep(20_000)
        }
        return sawFirstOutput
    }

    @Test func pitchFramesOfAPipedStreamArriveBeforeItEndsAndAreTheFilesTrack() throws {
        let (file, bytes) = try recording("pitch.wav", seconds: 6)
        let fromFile = try TestSupport.run(["pitch", file, "--model", "crepe-tiny"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let run = try LiveRun(["pitch", "-", "--stream", "--model", "crepe-tiny"])
        // The frame at 1 s needs the samples up to 1.032 s: sent after 1.1 s of audio, with 4.9 s still to come.
        let early = try feed(run, bytes, firstPart: 44 + 2 * 17_600) { $0.hasPrefix("1.000,") }
        let result = try run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(early, "the frame at 1 s was written before the stream ended")
        #expect(result.stdout.split(separator: "\n").count == 602)
        #expect(TestSupport.agree(result.stdout, fromFile.stdout, tolerance: 1e-5, absolute: 2e-6), "live rows within float rounding of the file's")
    }

    @Test func eventsOfAPipedStreamArriveAsTheyCloseAndAreTheFilesEvents() throws {
        let (file, bytes) = try recording("events.wav", seconds: 12)
        let fromFile = try TestSupport.run(["classify", file, "--format", "json"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let run = try LiveRun(["classify", "-", "--stream"])
        // The first silence ends at 1.68 s: it closes once the patch after it has run (3.36 s of audio read).
        let early = try feed(run, bytes, firstPart: 44 + 2 * 16_000 * 4) { $0.contains("\"label\":\"Silence\"") && $0.contains("\"open\":false") }
        let result = try run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(early, "the first silence was reported before the stream ended")
        // Each closed event's line is the file's event with the file named '-' and "open":false.
        let events = fromFile.stdout.components(separatedBy: "\"events\":[")[1].dropLast(3).components(separatedBy: "},{")
            .map { "{\"file\":\"-\"," + $0.trimmingCharacters(in: CharacterSet(charactersIn: "{}")) + ",\"open\":false}" }
        let closed = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasSuffix("\"open\":false}") }
        #expect(events.count > 3 && Set(closed) == Set(events) && closed.count == events.count, "\(closed) against \(events)")
        #expect(result.stdout.contains("\"open\":true"), "open events are reported while they last")
    }

    @Test func aStreamCutMidSampleOrChangingFormatIsOneLineAndWritesNothing() throws {
        let (_, bytes) = try recording("bad.wav", seconds: 2)
        for (stream, message) in [(Array(bytes.prefix(44 + 20_001)), "ends in the middle of a sample frame"),
                                  (bytes + bytes, "the stream changes format after 32000 frames"),
                                  (Array("not audio\n".utf8), "format not recognised"), ([], "the stream is empty")] {
            let run = try LiveRun(["pitch", "-", "--model", "crepe-tiny", "--output", path("track.csv")])
            try? run.write(stream[...])  // the command may have stopped reading
            let result = try run.finish()
            #expect(result.status == 1 && result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: path("track.csv")))
        }
    }

    @Test func standardInputOptionsThatCannotWorkAreRefused() throws {
        let (file, _) = try recording("any.wav", seconds: 1)
        for (arguments, message) in [
            (["pitch", file, "--raw-rate", "16000"], "--raw-rate describes standard input: give '-' as the input"),
            (["pitch", "-", "--raw-format", "f32"], "--raw-format and --raw-channels need --raw-rate"),
            (["pitch", "-", "--raw-rate", "100"], "--raw-rate must be within 1000…768000 Hz"),
            (["pitch", "-", "-"], "'-' (standard input) can be read once"),
            (["classify", "-", "--channels", "each"], "--channels each reads a file twice; standard input ('-') can be read once"),
            (["classify", "-", "--output-dir", path("out")], "standard input ('-') has no name to write under --output-dir"),
            (["pitch", "-", "--stream", "--viterbi"], "--stream decodes each frame alone"),
            (["pitch", "-", "--stream", "--format", "npz", "--output", path("x.npz")], "--stream writes CSV or JSON lines"),
            (["classify", "-", "--stream", "--clip"], "--stream reports YAMNet's events as they close"),
        ] {
            let result = try TestSupport.run(arguments)
            #expect(result.status != 0 && result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
