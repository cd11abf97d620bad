import AudioIO
import Formats
import Foundation
import TestSupport
import Testing

/// Every command gives the same results at any thread count (`$AUDIONET_THREADS`), on clips from 1 sample to
/// 140 CREPE frames and on a 10-minute file (pitch: a minute). Work splits differ by thread count, so float rounding may
/// differ in the last digits: numbers are compared within 1e-5 (relative), everything else exactly.
@Suite(.serialized) struct ThreadCountTests {
    static let threadCounts = [1, 2, 3, 7, 16, 64]
    /// 1 sample … 140 frames of 10 ms at 16 kHz (a 3 s clip crashed `pitch` at 16 threads; 1 sample at 6).
    static let clipLengths = [1, 100, 1023, 1024, 1025, 1600, 4000, 8000, 15_600, 22_400]

    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The first `length` samples of the speech fixture, repeated when longer.
    func clip(_ length: Int) throws -> String {
        let speech = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/speech.wav")).samples
        let samples = (0..<length).map { speech[$0 % speech.count] }
        let file = path("clip-\(length).wav")
        if !FileManager.default.fileExists(atPath: file) { try AudioFileWriter.write(path: file, samples: samples, sampleRate: 16_000) }
        return file
    }

    func agree(_ a: String, _ b: String) -> Bool { TestSupport.agree(a, b, tolerance: 1e-5) }

    /// Runs `arguments` at every thread count; stdout, and each listed output file as numbers, agree with one thread's.
    func expectSameResultsAtEveryThreadCount(_ arguments: [String], files: [String] = []) throws {
        var reference: (String, [[Float]])?
        for threads in Self.threadCounts {
            let result = try TestSupport.run(arguments, environment: ["AUDIONET_THREADS": String(threads)])
            #expect(result.status == 0, "\(arguments) at \(threads) threads: \(result.stderr)")
            guard result.status == 0 else { return }
            let outputs = try files.map { try NPY.read(path: $0).floats }
            guard let (stdout, arrays) = reference else { reference = (result.stdout, outputs); continue }
            #expect(agree(stdout, result.stdout), "\(arguments) at \(threads) threads:\n\(result.stdout)\nvs one thread:\n\(stdout)")
            for (one, many) in zip(arrays, outputs) {
                let scale = max(1, one.map(abs).max() ?? 0)
                #expect(TestSupport.maxAbsDifference(one, many) <= 1e-5 * scale, "\(arguments) at \(threads) threads")
            }
        }
    }

    @Test(arguments: clipLengths) func pitchAtEveryThreadCount(length: Int) throws {
        try expectSameResultsAtEveryThreadCount(["pitch", try clip(length), "--model", "crepe-tiny", "--activation", path("a.npy")],
                                                files: [path("a.npy")])
    }

    @Test(arguments: clipLengths) func classifyAndEmbedAtEveryThreadCount(length: Int) throws {
        try expectSameResultsAtEveryThreadCount(["classify", try clip(length), "--format", "csv"])
        try expectSameResultsAtEveryThreadCount(["classify", try clip(length), "--clip", "--precision", "int8", "--format", "csv"])
        try expectSameResultsAtEveryThreadCount(["embed", try clip(length), "--model", "yamnet", "--output", path("e.npy")],
                                                files: [path("e.npy")])
    }

    @Test func aTenMinuteFileAtEveryThreadCount() throws {
        let file = try clip(10 * 60 * 16_000)
        try expectSameResultsAtEveryThreadCount(["classify", file, "--format", "csv"])
        try expectSameResultsAtEveryThreadCount(["embed", file, "--model", "yamnet", "--precision", "int8", "--output", path("e.npy")],
                                                files: [path("e.npy")])
        try expectSameResultsAtEveryThreadCount(["spectrogram", file, "--output", path("s.npy")], files: [path("s.npy")])
    }

    /// A minute: CREPE runs about 300 frames/s per AVX2 core, so ten minutes at each count would take half an hour.
    @Test func pitchOfAMinuteAtOneAndSixtyFourThreads() throws {
        let file = try clip(60 * 16_000)
        let one = try TestSupport.run(["pitch", file, "--model", "crepe-tiny"], environment: ["AUDIONET_THREADS": "1"])
        let many = try TestSupport.run(["pitch", file, "--model", "crepe-tiny"], environment: ["AUDIONET_THREADS": "64"])
        #expect(one.status == 0 && many.status == 0, "\(one.stderr) \(many.stderr)")
        #expect(one.stdout.split(separator: "\n").count == 6_002, "a header and 6 001 frames")
        #expect(agree(one.stdout, many.stdout))
    }

    @Test func imageClassifyAtEveryThreadCount() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return
        }
        let image = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images/cat.bmp").path
        for precision in ["float32", "int8"] {
            try expectSameResultsAtEveryThreadCount(["image", "classify", image, "--model", "mobilenetv2", "--precision", precision,
                                                     "--format", "json"])
        }
    }
}
