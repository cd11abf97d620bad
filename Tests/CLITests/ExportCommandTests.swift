import Foundation
import Formats
import NetCore
import TestSupport
import Testing

/// `audionet export`: the built-in networks with their real weights, written as ONNX and run by ONNX Runtime.
@Suite struct ExportCommandTests {
    /// Each network's export against `audionet run` on the same seeded input (images: NHWC for AudioNet, NCHW for
    /// the file): onnx.checker's full check passes and ONNX Runtime agrees within 1e-4 of the largest output.
    @Test(arguments: [("yamnet", [3, 96, 64]), ("crepe-full", [4, 1024]), ("mobilenetv2", [2, 224, 224, 3])])
    func onnxRuntimeRunsTheExportedNetworkAsAudioNetDoes(_ model: String, shape: [Int]) throws {
        let folder = TestSupport.temporaryDirectory()
        let file = folder.appendingPathComponent("\(model).onnx").path
        let export = try TestSupport.run(["export", model, "--output", file])
        guard export.status == 0 else {
            Issue.record("audionet export \(model) failed (are its weights fetched? `make weights`): \(export.stderr)")
            return
        }
        #expect(export.stdout.hasPrefix("\(file): \(model), opset 17"), "\(export.stdout)")
        var random = SeededGenerator(seed: 11)
        let input = Tensor(shape: shape, scalars: random.floats(shape.reduce(1, *), in: -1...1))
        let inputPath = folder.appendingPathComponent("input.npy").path, outputPath = folder.appendingPathComponent("output.npy").path
        try NPY.write(NPYArray(input), path: inputPath)
        let run = try TestSupport.run(["run", model, "--input", inputPath, "--output", outputPath])
        #expect(run.status == 0, "\(run.stderr)")
        let ours = try NPY.read(path: outputPath).tensor
        guard let reference = try TestSupport.onnxRuntime(model: file, input: shape.count == 4 ? input.permuted([0, 3, 1, 2]) : input) else { return }
        let error = TestSupport.relativeError(ours, reference)
        #expect(error <= 1e-4, "\(model): relative error \(error)")
    }

    /// `--precision int8` writes YAMNet's int8 layers as int8 weights: under a third of the float32 file, and ONNX
    /// Runtime's scores on real log-mel patches within 0.05 of `audionet run --precision int8` (its optimiser runs
    /// the QDQ weights as dynamically quantized products, as AudioNet does; the int8 README tolerance).
    @Test func anInt8ExportIsSmallAndScoresAsTheInt8EngineDoes() throws {
        let folder = TestSupport.temporaryDirectory()
        let float32 = folder.appendingPathComponent("yamnet.onnx").path, int8 = folder.appendingPathComponent("yamnet-int8.onnx").path
        let exports = try [TestSupport.run(["export", "yamnet", "--output", float32]),
                           TestSupport.run(["export", "yamnet", "--output", int8, "--precision", "int8"])]
        guard exports.allSatisfy({ $0.status == 0 }) else {
            Issue.record("audionet export yamnet failed (are its weights fetched? `make weights`): \(exports.map(\.stderr))")
            return
        }
        #expect(exports[1].stdout.contains("opset 17, int8 weights"), "\(exports[1].stdout)")
        let sizes = try [float32, int8].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
        #expect(Double(sizes[1]) < 0.33 * Double(sizes[0]), "\(sizes)")
        let patches = folder.appendingPathComponent("patches.npy").path, scores = folder.appendingPathComponent("scores.npy").path
        let features = try TestSupport.run(["spectrogram", TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path,
                                            "--frontend", "yamnet", "--patches", "--output", patches])
        #expect(features.status == 0, "\(features.stderr)")
        let run = try TestSupport.run(["run", "yamnet", "--input", patches, "--output", scores, "--precision", "int8"])
        #expect(run.status == 0, "\(run.stderr)")
        guard let reference = try TestSupport.onnxRuntime(model: int8, input: try NPY.read(path: patches).tensor) else { return }
        let difference = TestSupport.maxAbsDifference(try NPY.read(path: scores).tensor.scalars, reference.scalars)
        #expect(difference <= 0.05, "largest score difference \(difference)")
    }

    /// A network file converted in place would lose the input: refused, and the file kept.
    @Test func exportNeverWritesOverItsInput() throws {
        let folder = TestSupport.temporaryDirectory()
        let file = folder.appendingPathComponent("crepe-tiny.onnx").path
        #expect(try TestSupport.run(["export", "crepe-tiny", "--output", file]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        let again = try TestSupport.run(["export", file, "--output", folder.path + "/./crepe-tiny.onnx"])
        #expect(again.status == 1 && again.stderr.split(separator: "\n").count == 1, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
    }

    @Test func badOptionsAreOneLineErrors() throws {
        let output = TestSupport.temporaryDirectory().appendingPathComponent("x.onnx").path
        for arguments in [["export", "crepe-tiny", "--output", output, "--opset", "9"], ["export", "no-such-network", "--output", output],
                          ["export", "inceptionv3", "--output", output]] {
            let result = try TestSupport.run(arguments)
            #expect(result.status == 1 && result.stderr.hasPrefix("Error:") && result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
