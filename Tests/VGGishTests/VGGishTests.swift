import AudioIO
import AudioNet
import DSP
import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// The closed-form weights of Tests/Reference/make_vggish_fixtures.py: uniform in [−a, a) from a multiplicative
/// hash of the element index, a = sqrt(6 / fan-in) for weights and 0.1 for biases, in state_dict order.
func formula(count: Int, ordinal: Int, amplitude: Double) -> [Float] {
    (0..<count).map { i in
        let hash = (Int64(i) &* 2_654_435_761 &+ Int64(ordinal) &* 97_531) % 4_294_967_296
        return Float(amplitude * (2.0 * Double(hash) / 4_294_967_296.0 - 1.0))
    }
}

/// torchvggish's state_dict names and shapes (PyTorch layouts), in order.
let stateDictLayout: [(String, [Int])] = {
    var layout: [(String, [Int])] = []
    var channels = 1
    for (index, filters) in [(0, 64), (3, 128), (6, 256), (8, 256), (11, 512), (13, 512)] {
        layout += [("features.\(index).weight", [filters, channels, 3, 3]), ("features.\(index).bias", [filters])]
        channels = filters
    }
    var inputs = 512 * 4 * 6
    for (index, width) in [(0, 4096), (2, 4096), (4, 128)] {
        layout += [("embeddings.\(index).weight", [width, inputs]), ("embeddings.\(index).bias", [width])]
        inputs = width
    }
    return layout
}()

func formulaStateDict() -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: stateDictLayout.enumerated().map { ordinal, entry in
        let (name, shape) = entry
        let amplitude = name.hasSuffix("bias") ? 0.1 : (6.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot()
        return (name, Tensor(shape: shape, scalars: formula(count: shape.reduce(1, *), ordinal: ordinal, amplitude: amplitude)))
    })
}

func vggishFixture(_ name: String) throws -> Tensor { try NPY.read(path: TestSupport.fixture("vggish/\(name).npy")).tensor }

@Suite struct VGGishTests {
    @Test func frontEndMatchesVGGishInput() throws {
        let audio = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/speech.wav"))
        let ours = LogMelFrontEnd.vggish.logMelPatches(audio.samples), reference = try vggishFixture("examples")
        #expect(ours.shape == reference.shape)
        #expect(TestSupport.maxAbsDifference(ours.scalars, reference.scalars) <= 1e-3)
    }

    /// The whole path from the audio file, with the same closed-form weights as torchvggish in the fixture script.
    @Test func embeddingsMatchTorchVGGishWithTheSameWeights() throws {
        let embedder = try AudioEmbedder(pipeline: AudioPipeline(name: VGGish.descriptor.name, network: VGGish.network(weights: formulaStateDict())))
        let ours = try embedder.embed(file: TestSupport.fixture("frontend/speech.wav")).embeddings
        let reference = try vggishFixture("embeddings")
        #expect(ours.shape == reference.shape)
        let scale = max(1, reference.scalars.map(abs).max()!)
        let error = TestSupport.maxAbsDifference(ours.scalars, reference.scalars) / scale
        #expect(error <= 1e-4, "relative error \(error)")
    }

    @Test func postprocessingMatchesNumPy() throws {
        let pca = try VGGishPostprocessor(path: TestSupport.fixture("vggish/pca_params.npz"))
        let embeddings = try vggishFixture("embeddings")
        let projected = pca.project(embeddings), reference = try vggishFixture("projected")
        #expect(TestSupport.maxAbsDifference(projected.scalars, reference.scalars) <= 1e-5)
        let quantized = pca.apply(embeddings), expected = try vggishFixture("postprocessed")
        // Equal, except where float summation order moves a value across a rounding boundary.
        for (index, value) in quantized.scalars.enumerated() where value != expected.scalars[index] {
            let position = (min(max(reference.scalars[index], -2), 2) + 2) * 255 / 4
            #expect(abs(position - position.rounded(.down) - 0.5) < 1e-3, "element \(index): \(value) vs \(expected.scalars[index])")
        }
        #expect(quantized.scalars.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
    }

    @Test func wrongShapeNamesTheTensorAndBothShapes() throws {
        var state = formulaStateDict()
        state["features.3.weight"] = Tensor(zeros: [128, 64, 5, 5])
        #expect {
            try VGGish.network(weights: state)
        } throws: { error in
            "\(error)".contains("features.3.weight") && "\(error)".contains("[128, 64, 5, 5]") && "\(error)".contains("[128, 64, 3, 3]")
        }
    }

    @Test func missingWeightsNameTheFetchCommand() throws {
        let store = WeightStore(userDirectory: nil, cacheDirectory: TestSupport.temporaryDirectory().path, mirrorDirectory: nil)
        #expect {
            try AudioEmbedder.load(VGGish.descriptor.name, store: store)
        } throws: { error in
            "\(error)".contains("audionet weights fetch vggish/vggish-10086976.pth")
        }
    }

    /// VGGish's examples (0.96 s, no overlap, no padding past one example) cut from a stream as it is decoded give
    /// the whole signal’s embeddings bit for bit: 100 s of speech at 44.1 kHz, in several groups.
    @Test func streamedEmbeddingsAreTheWholeSignals() throws {
        let speech = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/speech.wav"), sampleRate: 44_100).samples
        let path = TestSupport.temporaryDirectory().appendingPathComponent("speech-100s.wav").path
        try AudioFileWriter.write(path: path, samples: (0..<100 * 44_100 + 123).map { speech[$0 % speech.count] }, sampleRate: 44_100)
        let pipeline = try AudioPipeline(name: VGGish.descriptor.name, network: VGGish.network(weights: formulaStateDict()))
        let node = try #require(pipeline.input.embeddings)
        let whole = try pipeline.run(file: path, outputs: [node])
        var rows: [Float] = [], groups = 0
        let (times, duration) = try pipeline.run(stream: AudioFileStream(opening: path, sampleRate: 16_000), outputs: [node]) { outputs, _ in
            groups += 1
            rows += outputs[node]!.scalars
        }
        #expect(times.count == 104 && times == whole.times && duration == whole.duration && groups > 1, "\(times.count) examples in \(groups) groups")
        #expect(rows == whole.outputs[node]!.scalars)
    }
}

@Suite struct PyTorchImporterTests {
    @Test func readsEveryTensorKindExactly() throws {
        let state = try PyTorchStateDict(path: TestSupport.fixture("vggish/importer.pth"))
        let expected = try NPZ.read(path: TestSupport.fixture("vggish/importer_expected.npz"))
        #expect(state.names == ["features.0.weight", "features.0.bias", "embeddings.4.bias", "transposed", "offset",
                                "double", "half", "long", "scalar"])
        for name in state.names {
            let reference = expected[name.replacingOccurrences(of: ".", with: "_")]!
            #expect(state.tensors[name]!.shape == reference.shape, "\(name)")
            #expect(state.tensors[name]!.scalars == reference.floats, "\(name)")
        }
        #expect(try state.tensor("features.0.weight", shape: [64, 1, 3, 3]).count == 576)
    }

    @Test func nestedCheckpointsFlattenWithDots() throws {
        let state = try PyTorchStateDict(path: TestSupport.fixture("vggish/nested.pth"))
        #expect(state.names == ["state_dict.layer.weight"])
    }

    @Test func picklesThatWouldCallCodeAreRejected() throws {
        #expect {
            try PyTorchStateDict(path: TestSupport.fixture("vggish/malicious.pth"))
        } throws: { error in
            "\(error)".contains("system") && "\(error)".contains("would call")
        }
    }

    @Test func legacyFilesReadLikeZipFiles() throws {
        let legacy = try PyTorchStateDict(path: TestSupport.fixture("vggish/legacy.pth"))
        let nested = try PyTorchStateDict(path: TestSupport.fixture("vggish/nested.pth"))
        #expect(legacy.names == ["w"])
        #expect(legacy.tensors["w"] == nested.tensors["state_dict.layer.weight"])
    }

    @Test func corruptedPicklesNeverCrash() throws {
        let archivePath = TestSupport.fixture("vggish/importer.pth")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: archivePath)))
        let directory = TestSupport.temporaryDirectory()
        // Seeded, so that a failure reproduces; a corrupted ZIP64 offset once crashed ZIPFoundation here.
        var generator = SeededGenerator(seed: 2026)
        for trial in 0..<1000 {
            var copy = bytes
            for _ in 0..<4 { copy[Int.random(in: 0..<copy.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            let path = directory.appendingPathComponent("c\(trial).pth").path
            try Data(copy).write(to: URL(fileURLWithPath: path))
            _ = try? PyTorchStateDict(path: path)
        }
        for length in [0, 10, bytes.count / 2, bytes.count - 10] {
            let path = directory.appendingPathComponent("t\(length).pth").path
            try Data(bytes.prefix(length)).write(to: URL(fileURLWithPath: path))
            #expect(throws: (any Error).self) { try PyTorchStateDict(path: path) }
        }
    }
}
