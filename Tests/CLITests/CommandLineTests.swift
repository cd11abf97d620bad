import AudioIO
import Formats
import Foundation
import Models
import TestSupport
import Testing

@Suite struct CommandLineTests {
    let directory = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A failing command prints exactly one line on stderr and exits non-zero.
    func expectOneLineError(_ arguments: [String], mentioning fragment: String) throws {
        let result = try TestSupport.run(arguments)
        #expect(result.status != 0, "\(arguments)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)")
    }

    @Test func helpListsTheSubcommands() throws {
        let result = try TestSupport.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("spectrogram") && result.stdout.contains("models"))
        #expect(try TestSupport.run(["--version"]).stdout.hasPrefix("audionet "))
    }

    @Test func spectrogramWritesFramesAndPatches() throws {
        let input = TestSupport.fixture("frontend/speech.wav")
        #expect(try TestSupport.run(["spectrogram", input, "--output", path("frames.npy")]).status == 0)
        #expect(try TestSupport.run(["spectrogram", input, "--frontend", "yamnet", "--output", path("p.npy"), "--patches"]).status == 0)
        let frames = try NPY.read(path: path("frames.npy"))
        let patches = try NPY.read(path: path("p.npy"))
        #expect(frames.shape.count == 2 && frames.shape[1] == 64)
        #expect(patches.shape == [6, 96, 64])
        let reference = try NPY.read(path: TestSupport.fixture("frontend/speech.yamnet.npy"))
        #expect(TestSupport.maxAbsDifference(patches.floats, reference.floats) <= 1e-4)
    }

    @Test func modelsListsTheWholeCatalogAsJSON() throws {
        let result = try TestSupport.run(["models", "--format", "json"], environment: ["AUDIONET_WEIGHTS_MIRROR": "/nonexistent"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == Catalog.all.count)
        let names = try lines.map { line -> String in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["name"] as! String
        }
        for expected in ["yamnet", "crepe-full", "vggish", "openl3", "squeezenet", "googlenet", "resnet50", "vgg19",
                         "efficientnetb0", "nasnetlarge", "darknet53", "shufflenet", "densenet201"] {
            #expect(names.contains(expected))
        }
    }

    @Test func modelsReportsWeightsFoundInTheMirror() throws {
        let mirror = directory.appendingPathComponent("mirror/yamnet")
        try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
        for file in ["yamnet.tflite", "yamnet_class_map.csv"] {
            try Data("x".utf8).write(to: mirror.appendingPathComponent(file))
        }
        let result = try TestSupport.run(["models"], environment: ["AUDIONET_WEIGHTS_MIRROR": path("mirror")])
        let yamnetRow = result.stdout.split(separator: "\n").first { $0.hasPrefix("yamnet ") }
        #expect(yamnetRow?.hasSuffix("present") == true)
    }

    @Test func missingFileFails() throws {
        try expectOneLineError(["spectrogram", path("absent.wav"), "--output", path("x.npy")], mentioning: "no such file")
    }

    @Test func zeroSampleWAVFails() throws {
        try AudioFileWriter.write(path: path("empty.wav"), samples: [], sampleRate: 16_000)
        try expectOneLineError(["spectrogram", path("empty.wav"), "--output", path("x.npy")], mentioning: "no audio samples")
    }

    @Test func textFileNamedWAVFails() throws {
        try "hello\n".write(toFile: path("text.wav"), atomically: true, encoding: .utf8)
        try expectOneLineError(["spectrogram", path("text.wav"), "--output", path("x.npy")], mentioning: "cannot decode")
    }

    @Test func truncatedWAVFails() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("frontend/noise.wav")))
        try bytes.prefix(30_000).write(to: URL(fileURLWithPath: path("cut.wav")))
        try expectOneLineError(["spectrogram", path("cut.wav"), "--output", path("x.npy")], mentioning: "truncated")
    }

    @Test func nanSamplesFail() throws {
        try AudioFileWriter.write(path: path("nan.wav"), samples: [0, .nan, 0], sampleRate: 16_000, encoding: .float32)
        try expectOneLineError(["spectrogram", path("nan.wav"), "--output", path("x.npy")], mentioning: "NaN")
    }

    @Test func unwritableOutputFailsAndLeavesNothing() throws {
        let input = TestSupport.fixture("frontend/tone.wav")
        try expectOneLineError(["spectrogram", input, "--output", path("no/such/dir/x.npy")], mentioning: "cannot write")
        #expect(!FileManager.default.fileExists(atPath: path("no/such/dir/x.npy")))
    }

    @Test func unknownFrontEndNamesTheChoices() throws {
        try expectOneLineError(["spectrogram", TestSupport.fixture("frontend/tone.wav"), "--frontend", "mfcc",
                                "--output", path("x.npy")], mentioning: "yamnet")
    }
}
