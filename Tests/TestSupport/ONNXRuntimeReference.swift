import Formats
import Foundation
import NetCore
import Testing

extension TestSupport {
    /// The reference venv's Python (`make venv`), which has onnx and ONNX Runtime.
    public static let referencePython = repositoryRoot.appendingPathComponent(".venv-reference/bin/python").path

    /// ONNX Runtime's output for `input` on the ONNX file `model`, after onnx.checker's full check
    /// (Tests/Reference/onnx_runtime_reference.py); nil, with a recorded failure, when the venv is missing or the
    /// check or the run fails.
    public static func onnxRuntime(model: String, input: Tensor, optimized: Bool = true) throws -> Tensor? {
        guard FileManager.default.isExecutableFile(atPath: referencePython) else {
            Issue.record("\(referencePython) is missing, so ONNX Runtime cannot check the exported file: run `make venv`")
            return nil
        }
        let folder = temporaryDirectory()
        let inputPath = folder.appendingPathComponent("input.npy").path, outputPath = folder.appendingPathComponent("output.npy").path
        try NPY.write(NPYArray(input), path: inputPath)
        let result = try run([repositoryRoot.appendingPathComponent("Tests/Reference/onnx_runtime_reference.py").path, model, inputPath, outputPath]
                             + (optimized ? [] : ["--unoptimized"]),
                             program: URL(fileURLWithPath: referencePython))
        guard result.status == 0 else {
            Issue.record("ONNX Runtime refused \(model): \(result.stderr.split(separator: "\n").suffix(3).joined(separator: " | "))")
            return nil
        }
        return try NPY.read(path: outputPath).tensor
    }

    /// Largest absolute difference relative to the largest reference magnitude (at least 1).
    public static func relativeError(_ ours: Tensor, _ reference: Tensor) -> Float {
        guard ours.shape == reference.shape else { return .infinity }
        return maxAbsDifference(ours.scalars, reference.scalars) / max(1, reference.scalars.map(abs).max() ?? 0)
    }
}
