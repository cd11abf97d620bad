import AudioNet
import Foundation

/// One libFuzzer entry point for every parser; `$AUDIONET_FUZZ_TARGET` chooses which one a run feeds.
/// Parsers that read paths (libhdf5, libsndfile, the zip reader) get the input through a file in /dev/shm.
/// A thrown error is the expected outcome for a malformed input; a crash, hang or huge allocation is a finding.
enum FuzzTarget: String, CaseIterable {
    case npy, npz, pytorch, tflite, onnx, caffe, caffemodel, darknet, keras, safetensors, image, audio, resample

    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["AUDIONET_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set AUDIONET_FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()

    /// The definition the `caffemodel` target's weights are read for (Tests/Reference/make_caffe_fixtures.py's
    /// residual network, whose weights seed the corpus).
    static let caffeDefinition = (try? String(contentsOfFile: "Tests/Fixtures/fuzz-corpus/caffe/residual.prototxt", encoding: .utf8)) ?? ""

    /// A file this process owns, rewritten for every input.
    static let scratch = "/dev/shm/audionet-fuzz-\(getpid())"

    func run(_ bytes: [UInt8]) {
        switch self {
        case .npy: _ = try? NPY.decode(bytes)
        case .tflite:
            guard let model = try? TFLiteModel(bytes: bytes) else { return }
            for index in model.tensors.indices { _ = try? model.floats(index) }
            _ = try? model.network()
        // The protobuf, then its graph on the engine (no folder: external tensor data is refused, never read).
        case .onnx:
            guard let model = try? ONNXModel(bytes: bytes) else { return }
            _ = try? model.network()
        // A network definition (protobuf text) alone, built with placeholder weights.
        case .caffe:
            guard let model = try? CaffeModel(definition: String(decoding: bytes, as: UTF8.self), weights: nil) else { return }
            _ = try? model.network()
        // Weights (protobuf binary) for a fixed definition of every layer type the importer reads.
        case .caffemodel:
            guard let model = try? CaffeModel(definition: Self.caffeDefinition, weights: bytes) else { return }
            _ = try? model.network()
        // A `.cfg` definition, then after a NUL byte (when there is one) its `.weights`.
        case .darknet:
            let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
            let weights = split < bytes.endIndex ? Array(bytes[(split + 1)...]) : nil
            guard let model = try? DarknetModel(definition: String(decoding: bytes[..<split], as: UTF8.self), weights: weights) else { return }
            _ = try? model.network()
        case .npz: withFile(bytes) { _ = try? NPZ.read(path: $0) }
        case .pytorch: withFile(bytes) { _ = try? PyTorchStateDict(path: $0) }
        case .keras: withFile(bytes) { _ = try? KerasWeights(path: $0) }
        // The container, then a trained model's description and head read from it.
        case .safetensors:
            _ = try? Safetensors.decode(bytes)
            withFile(bytes) { _ = try? TrainedClassifier(contentsOf: $0) }
        case .image: withFile(bytes) { _ = try? RGBImage(path: $0) }
        // Decoding alone (libsndfile, mixing, range checks) at the file's own rate; `resample` adds resampling to
        // 16 kHz, whose filter bank for an arbitrary rate pair (up to 8192 phases) costs far more than the parsing.
        case .audio: withFile(bytes) { _ = try? AudioFileReader.readMono(path: $0) }
        case .resample: withFile(bytes) { _ = try? AudioFileReader.readMono(path: $0, sampleRate: 16_000) }
        }
    }

    func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        guard FileManager.default.createFile(atPath: Self.scratch, contents: Data(bytes)) else { return }
        body(Self.scratch)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzTarget.current.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
