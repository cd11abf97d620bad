import Foundation
import Formats
import NetCore
import TestSupport
import Testing

/// `audionet run` and `info` on an ONNX file (Tests/Reference/make_onnx_fixtures.py, run by `make generated-fixtures`).
@Suite struct NetworkFileTests {
    static let folder = TestSupport.repositoryRoot.appendingPathComponent(".build/generated-fixtures/onnx")

    func model() -> String? {
        let path = Self.folder.appendingPathComponent("helper-opset13.onnx").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(path) is missing, so `run FILE.onnx` cannot be checked: run `make generated-fixtures`")
            return nil
        }
        return path
    }

    @Test func runOnAnONNXFileGivesONNXRuntimesOutput() throws {
        guard let model = model() else { return }
        let output = TestSupport.temporaryDirectory().appendingPathComponent("onnx-out.npy").path
        let input = Self.folder.appendingPathComponent("helper-opset13.input.npy").path
        let result = try TestSupport.run(["run", model, "--input", input, "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try NPY.read(path: output).tensor
        let expected = try NPY.read(path: Self.folder.appendingPathComponent("helper-opset13.output.npy").path).tensor
        #expect(ours.shape == expected.shape && TestSupport.maxAbsDifference(ours.scalars, expected.scalars) <= 1e-5)
        let layer = try TestSupport.run(["run", model, "--input", input, "--output", output, "--layer", "leaky"])
        let shape = try NPY.read(path: output).tensor.shape
        #expect(layer.status == 0 && shape == [3, 17, 18, 8])
    }

    /// The network file is an input: `--output` naming it (however reached) is refused and the file kept.
    @Test func runNeverWritesOverTheNetworkFile() throws {
        guard let model = model() else { return }
        let folder = TestSupport.temporaryDirectory().appendingPathComponent("keep")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let copy = folder.appendingPathComponent("net.onnx").path
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        let input = Self.folder.appendingPathComponent("helper-opset13.input.npy").path
        let result = try TestSupport.run(["run", copy, "--input", input, "--output", folder.path + "/./net.onnx"])
        #expect(result.status == 1 && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
    }

    /// External tensor data is an input too: `--output` naming the weights file beside the model is refused.
    @Test func runNeverWritesOverTheExternalData() throws {
        let source = Self.folder.appendingPathComponent("external-data.onnx")
        guard FileManager.default.fileExists(atPath: source.path) else {
            Issue.record("\(source.path) is missing: run `make generated-fixtures`")
            return
        }
        let folder = TestSupport.temporaryDirectory()
        for name in ["external-data.onnx", "external-data.weights"] {
            try FileManager.default.copyItem(at: Self.folder.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let weights = folder.appendingPathComponent("external-data.weights").path, before = try Data(contentsOf: URL(fileURLWithPath: weights))
        let result = try TestSupport.run(["run", folder.appendingPathComponent("external-data.onnx").path, "--input",
                                          Self.folder.appendingPathComponent("helper-opset13.input.npy").path, "--output", weights])
        #expect(result.status == 1 && result.stderr.contains("refusing to overwrite an input"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: weights)) == before)
    }

    @Test func infoListsTheFilesTensorsAndWeightsAreRefused() throws {
        guard let model = model() else { return }
        let info = try TestSupport.run(["info", model])
        #expect(info.status == 0 && info.stdout.contains("conv1") && info.stdout.contains("LocalResponseNorm") && info.stdout.contains("total:"), "\(info.stderr)")
        let weights = try TestSupport.run(["run", model, "--input", "x.npy", "--output", "y.npy", "--weights", model])
        #expect(weights.status != 0)
    }

    /// The MobileNetV2 TFLite file run as a file gives exactly what the built-in `mobilenetv2` (read from it) gives.
    @Test func aTFLiteFileRunsAsTheBuiltInNetworkItHolds() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("$AUDIONET_WEIGHTS_MIRROR is not set, so the MobileNetV2 TFLite file cannot be run")
            return
        }
        let folder = TestSupport.temporaryDirectory()
        let input = folder.appendingPathComponent("images.npy").path, byName = folder.appendingPathComponent("a.npy").path
        let byFile = folder.appendingPathComponent("b.npy").path
        var generator = SeededGenerator(seed: 5)
        try NPY.write(NPYArray(Tensor(shape: [2, 224, 224, 3], scalars: (0..<2 * 224 * 224 * 3).map { _ in Float.random(in: -1...1, using: &generator) })), path: input)
        #expect(try TestSupport.run(["run", "mobilenetv2", "--input", input, "--output", byName]).status == 0)
        let file = try TestSupport.run(["run", mirror + "/mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite", "--input", input, "--output", byFile])
        #expect(file.status == 0, "\(file.stderr)")
        #expect(try NPY.read(path: byName).tensor == NPY.read(path: byFile).tensor)
    }

    @Test func aFileThatIsNotONNXIsAOneLineError() throws {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("bogus.onnx")
        try Data("definitely not protobuf".utf8).write(to: path)
        let result = try TestSupport.run(["info", path.path])
        #expect(result.status == 1 && result.stderr.hasPrefix("Error: malformed ONNX file: not an ONNX protobuf")
                && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}

/// `audionet run` and `export` on a Caffe file (Tests/Reference/make_caffe_fixtures.py, run by `make generated-fixtures`).
@Suite struct CaffeFileTests {
    static let folder = TestSupport.repositoryRoot.appendingPathComponent(".build/generated-fixtures/caffe")

    /// A copy of the residual fixture's weights and definition in a folder of its own, or nil (recorded) without fixtures.
    func copy(definitionName: String = "net.prototxt") throws -> URL? {
        let source = Self.folder.appendingPathComponent("residual.caffemodel")
        guard FileManager.default.fileExists(atPath: source.path) else {
            Issue.record("\(source.path) is missing, so `run FILE.caffemodel` cannot be checked: run `make generated-fixtures`")
            return nil
        }
        let folder = TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent("net.caffemodel"))
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("residual.prototxt"), to: folder.appendingPathComponent(definitionName))
        return folder
    }

    /// The definition is found beside the weights (`NAME.prototxt`, else `deploy.prototxt`); the output is PyTorch's.
    @Test(arguments: ["net.prototxt", "deploy.prototxt"])
    func runOnACaffeModelFindsItsDefinitionAndGivesPyTorchsOutput(_ definition: String) throws {
        guard let folder = try copy(definitionName: definition) else { return }
        let output = folder.appendingPathComponent("out.npy").path
        let result = try TestSupport.run(["run", folder.appendingPathComponent("net.caffemodel").path, "--input",
                                          Self.folder.appendingPathComponent("residual.input.npy").path, "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let expected = try NPY.read(path: Self.folder.appendingPathComponent("residual.output.npy").path).tensor
        #expect(TestSupport.relativeError(try NPY.read(path: output).tensor, expected) <= 1e-4)
    }

    /// The definition is an input as much as the weights: `--output` naming it is refused and it is kept.
    @Test func neitherTheWeightsNorTheDefinitionAreWrittenOver() throws {
        guard let folder = try copy() else { return }
        let definition = folder.appendingPathComponent("net.prototxt").path, before = try Data(contentsOf: URL(fileURLWithPath: definition))
        for command in ["run", "export"] {
            let arguments = [command, folder.appendingPathComponent("net.caffemodel").path, "--output", definition]
                + (command == "run" ? ["--input", Self.folder.appendingPathComponent("residual.input.npy").path] : [])
            let result = try TestSupport.run(arguments)
            #expect(result.status == 1 && result.stderr.contains("refusing to overwrite an input"), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: definition)) == before)
    }

    @Test func aCaffeModelWithoutItsDefinitionIsAOneLineError() throws {
        guard let folder = try copy() else { return }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("net.prototxt"))
        let result = try TestSupport.run(["info", folder.appendingPathComponent("net.caffemodel").path])
        #expect(result.status == 1 && result.stderr.contains("net.prototxt or deploy.prototxt") && result.stderr.split(separator: "\n").count == 1,
                "\(result.stderr)")
    }
}

/// `audionet image classify IMAGE --model FILE --labels L`: a network file as an image classifier.
@Suite struct NetworkFileImageTests {
    /// MobileNetV2's TFLite file with its labels and its [-1, 1] scaling gives the built-in `mobilenetv2`'s classes.
    @Test func aTFLiteFileClassifiesAsTheBuiltInNetwork() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("$AUDIONET_WEIGHTS_MIRROR is not set, so the MobileNetV2 TFLite file cannot be run")
            return
        }
        let image = mirror + "/../images/owl.jpg", folder = mirror + "/mobilenet_v2"
        let builtIn = try TestSupport.run(["image", "classify", image, "--model", "mobilenetv2", "--format", "json", "--top", "3"])
        let file = try TestSupport.run(["image", "classify", image, "--model", folder + "/mobilenet_v2_1.0_224_quant.tflite", "--labels",
                                        folder + "/imagenet_labels.txt", "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5", "--format", "json", "--top", "3"])
        #expect(builtIn.status == 0 && file.status == 0, "\(builtIn.stderr)\(file.stderr)")
        func predictions(_ output: String) throws -> [(String, Double)] {
            let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            return (object?["predictions"] as? [[String: Any]] ?? []).map { ($0["label"] as? String ?? "", $0["score"] as? Double ?? -1) }
        }
        let a = try predictions(builtIn.stdout), b = try predictions(file.stdout)
        #expect(a.count == 3 && a.map(\.0) == b.map(\.0), "\(a) \(b)")
        #expect(zip(a, b).allSatisfy { abs($0.1 - $1.1) < 1e-3 }, "\(a) \(b)")
    }

    /// A labels file that is missing, a directory or not text is named in a one-line error (not Foundation's error dump).
    @Test func aLabelsFileThatCannotBeReadIsNamedInOneLine() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("$AUDIONET_WEIGHTS_MIRROR is not set, so the MobileNetV2 TFLite file cannot be read")
            return
        }
        let image = mirror + "/../images/owl.jpg", model = mirror + "/mobilenet_v2/mobilenet_v2_1.0_224_quant.tflite"
        let missing = try TestSupport.run(["image", "classify", image, "--model", model, "--labels", "/nonexistent/labels.txt"])
        #expect(missing.status == 1 && missing.stderr == "Error: cannot read the label file '/nonexistent/labels.txt': no such file\n",
                "\(missing.stderr)")
        let binary = try TestSupport.run(["image", "classify", image, "--model", model, "--labels", model])
        #expect(binary.status == 1 && binary.stderr.contains("cannot read the label file '\(model)': it is not UTF-8 text"), "\(binary.stderr)")
        let folder = try TestSupport.run(["image", "classify", image, "--model", model, "--labels", mirror])
        #expect(folder.status == 1 && folder.stderr.contains("cannot read the label file '\(mirror)': it is a directory"), "\(folder.stderr)")
    }

    @Test func aNetworkFileNeedsItsLabelsAndABuiltInNetworkTakesNone() throws {
        let image = "any.png"  // refused before it is read
        let missing = try TestSupport.run(["image", "classify", image, "--model", "net.onnx"])
        #expect(missing.status == 1 && missing.stderr.contains("net.onnx needs --labels FILE"), "\(missing.stderr)")
        let extra = try TestSupport.run(["image", "classify", image, "--model", "mobilenetv2", "--labels", "x.txt"])
        #expect(extra.status == 1 && extra.stderr.contains("--labels, --mean and --std are for network files"), "\(extra.stderr)")
        let bad = try TestSupport.run(["image", "classify", image, "--model", "net.onnx", "--labels", "x.txt", "--mean", "1,2"])
        #expect(bad.status == 1 && bad.stderr.contains("--mean takes three numbers r,g,b, not '1,2'"), "\(bad.stderr)")
    }
}

@Suite struct DarknetFileTests {
    /// `run NAME.weights` reads `NAME.cfg` beside it and gives the PyTorch interpreter's probabilities for Darknet-19
    /// (the generated fixture; input channels-last, as the engine takes images); `--output` naming the `.cfg` is refused.
    @Test func runOnDarknetWeightsFindsItsCfgAndGivesPyTorchsOutput() throws {
        guard let weights = TestSupport.generatedFixture("darknet/darknet19.weights"),
              let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("the Darknet fixture or $AUDIONET_WEIGHTS_MIRROR is missing")
            return
        }
        let folder = TestSupport.temporaryDirectory()
        let file = folder.appendingPathComponent("tiny.weights"), cfg = folder.appendingPathComponent("tiny.cfg")
        try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: weights)
        try FileManager.default.copyItem(atPath: mirror + "/darknet/darknet19.cfg", toPath: cfg.path)
        let input = try NPY.read(path: TestSupport.generatedFixture("darknet/darknet19.input.npy")!).tensor.permuted([0, 2, 3, 1])
        let inputPath = folder.appendingPathComponent("input.npy").path, output = folder.appendingPathComponent("out.npy").path
        try NPY.write(NPYArray(shape: input.shape, dtype: .float32, bytes: input.scalars.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }),
                      path: inputPath)
        let result = try TestSupport.run(["run", file.path, "--input", inputPath, "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let expected = try NPY.read(path: TestSupport.generatedFixture("darknet/darknet19.output.npy")!).tensor
        #expect(TestSupport.relativeError(try NPY.read(path: output).tensor.reshaped(expected.shape), expected) <= 1e-4)
        let before = try Data(contentsOf: cfg)
        let refused = try TestSupport.run(["run", file.path, "--input", inputPath, "--output", cfg.path])
        #expect(refused.status == 1 && refused.stderr.contains("refusing to overwrite an input"), "\(refused.stderr)")
        #expect(try Data(contentsOf: cfg) == before)
    }
}
