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
    }

    /// `--version` names the commit the command was built from (`git describe --always --dirty`), a commit of this
    /// repository; `unknown` only when built outside a checkout.
    @Test func versionNamesTheBuildsCommit() throws {
        let line = try TestSupport.run(["--version"]).stdout.trimmingCharacters(in: .newlines)
        let match = line.wholeMatch(of: /audionet \d+\.\d+\.\d+ \(([0-9a-f]{7,40})(-dirty)?\)/)
        #expect(match != nil, "\(line)")
        guard let commit = match?.1, FileManager.default.fileExists(atPath: TestSupport.repositoryRoot.appendingPathComponent(".git").path) else { return }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        check.arguments = ["-C", TestSupport.repositoryRoot.path, "cat-file", "-e", "\(commit)^{commit}"]
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(commit) is not a commit of the checkout")
    }

    /// The completion scripts know the subcommands and the values of enumerated options.
    @Test func completionScriptsListCommandsAndModelNames() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try TestSupport.run(["--generate-completion-script", shell])
            let missing = ["pitch", "classify", "crepe-tiny", "openl3-mel256-music-6144", "hysteresis"].filter { !script.stdout.contains($0) }
            #expect(script.status == 0 && missing.isEmpty, "\(shell) lacks \(missing)")
        }
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

    /// MobileNetV2's layer table comes from its architecture file: no weights needed.
    @Test func infoShowsMobileNetV2WithoutWeights() throws {
        let result = try TestSupport.run(["info", "mobilenetv2"], environment: ["AUDIONET_WEIGHTS_MIRROR": "/nonexistent",
                                                                                "AUDIONET_WEIGHTS": path("no-weights")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("expanded_conv_16/project") && result.stdout.contains("Predictions"))
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("Logits/Conv2d_1c_1x1 ") && $0.contains("1×1×1001") })
    }

    @Test func modelsListsTheWholeCatalogAsJSON() throws {
        let result = try TestSupport.run(["models", "--format", "json"], environment: ["AUDIONET_WEIGHTS_MIRROR": "/nonexistent"])
        #expect(result.status == 0)
        let names = try result.stdout.split(separator: "\n").map { line -> String in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["name"] as! String
        }
        // DESIGN.md's catalog: the audio networks (and OpenL3's image network), MATLAB's pretrained image networks
        // (GoogLeNet with Places365 weights too) and EfficientNet-Lite0; then torchvision's variants of four of them.
        let catalog = ["yamnet", "crepe-full", "crepe-large", "crepe-medium", "crepe-small", "crepe-tiny", "vggish", "openl3", "openl3-image",
                       "squeezenet", "googlenet", "googlenet-places365", "inceptionv3", "densenet201", "mobilenetv2", "resnet18",
                       "resnet50", "resnet101", "xception", "inceptionresnetv2", "shufflenet", "nasnetmobile", "nasnetlarge",
                       "darknet19", "darknet53", "efficientnetb0", "efficientnet-lite0", "alexnet", "vgg16", "vgg19",
                       "squeezenet1_0", "googlenet-torchvision", "shufflenet-v2", "alexnet-torchvision"]
        #expect(names.sorted() == catalog.sorted())
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

    /// Bytes that start like an MPEG frame made libmpg123 print notes, then libsndfile blamed a missing file.
    @Test func mpegLookingNoiseFailsWithOneLineSayingWhy() throws {
        var generator = SeededGenerator(seed: 3)
        try Data([0xFF, 0xFB, 0x90, 0x00] + (0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) })
            .write(to: URL(fileURLWithPath: path("noise.wav")))
        try expectOneLineError(["spectrogram", path("noise.wav"), "--output", path("x.npy")], mentioning: "format not recognised")
    }

    @Test func truncatedWAVFails() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("frontend/noise.wav")))
        try bytes.prefix(30_000).write(to: URL(fileURLWithPath: path("cut.wav")))
        try expectOneLineError(["spectrogram", path("cut.wav"), "--output", path("x.npy")], mentioning: "truncated")
    }

    @Test func nanAndAbsurdSamplesFailNamingTheFirstOne() throws {
        try AudioFileWriter.write(path: path("nan.wav"), samples: [0, .nan, 0], sampleRate: 16_000, encoding: .float32)
        try expectOneLineError(["spectrogram", path("nan.wav"), "--output", path("x.npy")], mentioning: "sample of nan at frame 1")
        try AudioFileWriter.write(path: path("huge.wav"), samples: [0, 0, 1e30, 1e30], sampleRate: 16_000, encoding: .float32)
        try expectOneLineError(["classify", path("huge.wav")], mentioning: "at frame 2")
    }

    @Test func unwritableOutputFailsAndLeavesNothing() throws {
        let input = TestSupport.fixture("frontend/tone.wav")
        try expectOneLineError(["spectrogram", input, "--output", path("no/such/dir/x.npy")], mentioning: "cannot write")
        #expect(!FileManager.default.fileExists(atPath: path("no/such/dir/x.npy")))
    }

    @Test func aFileNamedLikeAnOptionIsReadAfterTheDoubleDashAndExplainedWithout() throws {
        let dashed = directory.appendingPathComponent("-tone.wav").path
        try FileManager.default.copyItem(atPath: TestSupport.fixture("frontend/tone.wav"), toPath: dashed)
        let result = try TestSupport.run(["spectrogram", "--output", path("x.npy"), "--", dashed])
        #expect(result.status == 0, "\(result.stderr)")
        let bare = try TestSupport.run(["spectrogram", "-tone.wav", "--output", path("y.npy")], directory: directory)
        #expect(bare.status == 1 && bare.stderr.contains("put it after '--'"), "\(bare.stderr)")
    }

    @Test func unknownFrontEndNamesTheChoices() throws {
        try expectOneLineError(["spectrogram", TestSupport.fixture("frontend/tone.wav"), "--frontend", "mfcc",
                                "--output", path("x.npy")], mentioning: "yamnet")
    }
}

@Suite struct ModelCommandTests {
    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @Test func classifyClipPrintsTheContractsJSON() throws {
        let result = try TestSupport.run(["classify", "--clip", "--top", "3", "--format", "json", TestSupport.fixture("frontend/speech.wav")])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(object["model"] as? String == "yamnet")
        let predictions = object["predictions"] as! [[String: Any]]
        #expect(predictions.count == 3 && predictions[0]["label"] as? String == "Speech" && predictions[0]["index"] as? Int == 0)
    }

    @Test func classifyAtInt8PrecisionStillHearsSpeech() throws {
        let result = try TestSupport.run(["classify", "--clip", "--precision", "int8", "--format", "csv", TestSupport.fixture("frontend/speech.wav")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").dropFirst().first?.contains(",0,Speech,") == true, "\(result.stdout)")
    }

    @Test func unknownPrecisionNamesTheChoicesOnOneLine() throws {
        let result = try TestSupport.run(["classify", "--precision", "float16", TestSupport.fixture("frontend/speech.wav")])
        #expect(result.status == 1 && result.stderr.contains("float32") && result.stderr.contains("int8"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test func infoAtInt8PrecisionMarksTheQuantizedLayersAndKeepsTheTotals() throws {
        let float = try TestSupport.run(["info", "yamnet"]), int8 = try TestSupport.run(["info", "yamnet", "--precision", "int8"])
        #expect(float.status == 0 && int8.status == 0, "\(int8.stderr)")
        let quantized = int8.stdout.split(separator: "\n").filter { $0.contains("(int8)") }
        #expect(quantized.count == 14, "13 pointwise convolutions and the classifier: \(quantized.count)")
        let (floatLines, int8Lines) = (float.stdout.split(separator: "\n"), int8.stdout.split(separator: "\n"))
        #expect(floatLines.dropLast().last?.hasPrefix("total: 85 layers") == true && floatLines.dropLast().last == int8Lines.dropLast().last,
                "\(floatLines.suffix(2)) \(int8Lines.suffix(2))")
    }

    @Test func runAtInt8PrecisionKeepsTheLayerNames() throws {
        let patches = TestSupport.fixture("yamnet/speech.litert_logmel.npy")
        let result = try TestSupport.run(["run", "yamnet", "--precision", "int8", "--input", patches, "--output", path("q.npy"),
                                          "--layer", "layer14/pointwise_conv/relu"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try NPY.read(path: path("q.npy")).shape == [6, 3, 2, 1024])
    }

    @Test func classifyEventsPrintsStartAndEnd() throws {
        let sample = TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path
        let result = try TestSupport.run(["classify", "--format", "json", sample])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let events = object["events"] as! [[String: Any]]
        #expect(events.contains { $0["label"] as? String == "Speech" && ($0["start"] as? Double ?? 0) > 1 })
    }

    @Test func runYAMNetMapsPatchesToScoresAndEmbeddings() throws {
        let patches = TestSupport.fixture("yamnet/speech.litert_logmel.npy")
        #expect(try TestSupport.run(["run", "yamnet", "--input", patches, "--output", path("s.npy")]).status == 0)
        #expect(try TestSupport.run(["run", "yamnet", "--input", patches, "--output", path("e.npy"), "--layer", "embeddings"]).status == 0)
        #expect(try NPY.read(path: path("s.npy")).shape == [6, 521])
        #expect(try NPY.read(path: path("e.npy")).shape == [6, 1024])
    }

    @Test func runWithAnUnknownLayerListsTheValidNames() throws {
        let result = try TestSupport.run(["run", "yamnet", "--input", TestSupport.fixture("yamnet/speech.litert_logmel.npy"),
                                          "--output", path("x.npy"), "--layer", "layer99"])
        #expect(result.status != 0 && result.stderr.contains("embeddings") && result.stderr.split(separator: "\n").count == 1)
    }

    @Test func runWithAWrongShapeNamesTheExpectedOne() throws {
        let result = try TestSupport.run(["run", "yamnet", "--input", TestSupport.fixture("frontend/speech.vggish.npy").replacingOccurrences(of: "vggish", with: "yamnet"),
                                          "--output", path("x.npy")])
        #expect(result.status == 0)
        try NPY.write(NPYArray(shape: [2, 64, 96], float32: [Float](repeating: 0, count: 2 * 64 * 96)), path: path("wrong.npy"))
        let wrong = try TestSupport.run(["run", "yamnet", "--input", path("wrong.npy"), "--output", path("x.npy")])
        #expect(wrong.status != 0 && wrong.stderr.contains("[N, 96, 64]"), "\(wrong.stderr)")
    }

    @Test func infoPrintsTheLayerTableWithTotals() throws {
        let result = try TestSupport.run(["info", "yamnet"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("layer14/pointwise_conv") && result.stdout.contains("total: "))
        let unknown = try TestSupport.run(["info", "nosuchnet"])
        #expect(unknown.status != 0 && unknown.stderr.contains("yamnet"))
    }

    @Test func missingWeightsNameTheFetchCommand() throws {
        let result = try TestSupport.run(["classify", TestSupport.fixture("frontend/speech.wav")],
                                         environment: ["AUDIONET_WEIGHTS_MIRROR": path("empty"), "AUDIONET_WEIGHTS": path("empty2"), "AUDIONET_OFFLINE": "1"])
        #expect(result.status != 0 && result.stderr.contains("audionet weights fetch"), "\(result.stderr)")
        #expect(result.stderr.contains("offline") && result.stderr.contains("place it at \(path("empty2"))/yamnet/"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func classifyBadAudioFailsWithOneLine() throws {
        try "text".write(toFile: path("bad.wav"), atomically: true, encoding: .utf8)
        let result = try TestSupport.run(["classify", path("bad.wav")])
        #expect(result.status != 0 && result.stderr.split(separator: "\n").count == 1)
    }
}

@Suite struct ImageCommandTests {
    @Test func imageClassifyPrintsTheContractsJSON() throws {
        let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] ?? ""
        let image = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images/parrot.jpg").path
        let result = try TestSupport.run(["image", "classify", image, "--model", "mobilenetv2", "--top", "2", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let predictions = object["predictions"] as! [[String: Any]]
        #expect(object["model"] as? String == "mobilenetv2" && predictions.count == 2 && predictions[0]["label"] as? String == "macaw")
    }

    /// `--calibration FOLDER` (static int8) keeps the classes; misuses fail with one line naming the option.
    @Test func imageClassifyCalibratesInt8OnAFolderAndRefusesMisuse() throws {
        let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] ?? ""
        let images = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images").path
        let image = images + "/parrot.jpg"
        let result = try TestSupport.run(["image", "classify", image, "--model", "mobilenetv2", "--top", "1", "--format", "json",
                                          "--precision", "int8", "--calibration", images])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"macaw\""), "\(result.stdout)")
        let empty = TestSupport.temporaryDirectory().path
        for (arguments, message) in [(["--calibration", images], "--calibration is for --precision int8"),
                                     (["--precision", "int8", "--calibration", empty + "/none"], "no such file or folder"),
                                     (["--precision", "int8", "--calibration", empty], "no images in the folder")] {
            let refused = try TestSupport.run(["image", "classify", image, "--model", "mobilenetv2"] + arguments)
            #expect(refused.status != 0 && refused.stderr.split(separator: "\n").count == 1 && refused.stderr.contains(message),
                    "\(arguments): \(refused.stderr)")
        }
    }

    @Test func corruptImageFailsWithOneLine() throws {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("bad.png").path
        try "not an image".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TestSupport.run(["image", "classify", path])
        #expect(result.status != 0 && result.stderr.split(separator: "\n").count == 1)
    }
}

@Suite struct PitchAndEmbedCommandTests {
    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    let tone = TestSupport.repositoryRoot.appendingPathComponent("Samples/tone-a440-stereo.wav").path

    @Test func pitchWritesTheCSVContract() throws {
        let result = try TestSupport.run(["pitch", tone, "--model", "crepe-tiny", "--output", path("a.csv")])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: path("a.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "time,frequency,confidence")
        #expect(lines.count == 1 + 151)  // 1.5 s at 10 ms, centred frames
        let middle = lines[76].split(separator: ",").compactMap { Double($0) }
        #expect(middle.count == 3 && abs(1200 * log2(middle[1] / 440)) < 25 && middle[2] > 0.5, "\(lines[76])")
    }

    @Test func pitchBadInputsFailWithOneLine() throws {
        try "text".write(toFile: path("bad.wav"), atomically: true, encoding: .utf8)
        for arguments in [["pitch", path("bad.wav"), "--model", "crepe-tiny"],
                          ["pitch", tone, "--model", "crepe-tiny", "--output", path("no/dir/a.csv")],
                          ["pitch", tone, "--step-ms", "0"]] {
            let result = try TestSupport.run(arguments)
            #expect(result.status == 1 && result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
    }

    @Test func openL3WithoutWeightsNamesTheFetchCommand() throws {
        let result = try TestSupport.run(["embed", tone, "--model", "openl3-mel256-music-6144", "--output", path("e.npy")],
                                         environment: ["AUDIONET_WEIGHTS": path("none"), "AUDIONET_OFFLINE": "1"])
        #expect(result.status == 1 && result.stderr.contains("audionet weights fetch openl3/torchopenl3_mel256_music_6144.pth.tar"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func openL3SpectrogramsHaveOneRowPerWindow() throws {
        let result = try TestSupport.run(["spectrogram", tone, "--frontend", "openl3-mel128", "--output", path("s.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try NPY.read(path: path("s.npy")).shape == [11, 128, 199])  // 0.5 s of centring + 1.5 s: 1 + (96000 − 48000) / 4800
    }
}
