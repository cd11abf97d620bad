import AudioNet
import Formats
import Foundation
import TestSupport
import Testing

/// YAMNet clip embeddings of FSDD, computed once for the suite: the dataset's index split (recordings 0–4 of each
/// digit and speaker are the test set).
let fsddEmbeddings: Result<(trainer: Trainer, train: (Tensor, [Int]), test: (Tensor, [Int]), classes: [String]), Error> = Result {
    guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else { throw DatasetError.notFound("$AUDIONET_WEIGHTS_MIRROR") }
    let files = try LabeledFiles(contentsOf: URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path)
    let isTest = files.paths.map { path in Int(path.split(separator: "_").last!.dropLast(4))! < 5 }
    let trainer = try Trainer(backbone: "yamnet")
    func embed(_ indices: [Int]) -> (Tensor, [Int]) {
        let (embeddings, kept, _) = trainer.embed(indices.map { files.paths[$0] })
        return (embeddings, kept.map { files.labels[indices[$0]] })
    }
    return (trainer, embed(files.paths.indices.filter { !isTest[$0] }), embed(files.paths.indices.filter { isTest[$0] }), files.classes)
}

@Suite(.serialized) struct TransferLearningTests {
    func data() throws -> (trainer: Trainer, train: (Tensor, [Int]), test: (Tensor, [Int]), classes: [String]) {
        try TestSupport.requireWeights("YAMNet and FSDD", fsddEmbeddings)
    }

    /// scikit-learn's LogisticRegression (standardised) on the same embeddings, run now in the reference venv.
    func referenceAccuracy(train: (Tensor, [Int]), test: (Tensor, [Int])) throws -> Double? {
        let python = TestSupport.repositoryRoot.appendingPathComponent(".venv-reference/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no reference venv (make venv), so scikit-learn cannot give the reference accuracy")
            return nil
        }
        let folder = TestSupport.temporaryDirectory()
        for (name, tensor) in [("train_x", train.0), ("test_x", test.0),
                               ("train_y", Tensor(shape: [train.1.count], scalars: train.1.map(Float.init))),
                               ("test_y", Tensor(shape: [test.1.count], scalars: test.1.map(Float.init)))] {
            try NPY.write(NPYArray(tensor), path: folder.appendingPathComponent("\(name).npy").path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestSupport.repositoryRoot.appendingPathComponent("Tests/Reference/logistic_regression_reference.py").path, folder.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let result = try JSONSerialization.jsonObject(with: output) as? [String: Double]
        return result?["accuracy"]
    }

    /// The shipped recipe (softmax regression, 20 % of the training files for early stopping) against the linear
    /// reference trained on all of them: at least its accuracy minus one point.
    @Test func theHeadMatchesLogisticRegressionOnTheIndexSplit() throws {
        let data = try data()
        guard let reference = try referenceAccuracy(train: data.train, test: data.test) else { return }
        let files = LabeledFiles(classes: data.classes, paths: data.train.1.map { _ in "" }, labels: data.train.1)
        let split = files.split(validationFraction: 0.2, seed: 0)
        let rows = { (indices: [Int]) in
            (Tensor(shape: [indices.count, 1024], scalars: indices.flatMap { data.train.0.scalars[$0 * 1024..<($0 + 1) * 1024] }),
             indices.map { data.train.1[$0] })
        }
        let result = Trainer.fit(train: rows(split.train), validation: rows(split.validation), classes: 10)
        let model = TrainedClassifier(backbone: "yamnet", backboneSHA256: data.trainer.backboneSHA256, classes: data.classes,
                                      mean: result.mean, scale: result.scale, head: result.head)
        let accuracy = Evaluation(predicted: Evaluation.argmax(model.probabilities(embeddings: data.test.0)), truth: data.test.1,
                                  labels: data.classes).accuracy
        #expect(accuracy >= reference - 0.01, "AudioNet \(accuracy), scikit-learn \(reference)")
        print("FSDD index split: AudioNet head \(accuracy), scikit-learn LogisticRegression \(reference)")
    }

    /// Train, save, load, classify: the same probabilities; a model whose backbone weights changed is refused.
    @Test func aSavedModelClassifiesAsTrainedAndRefusesOtherBackboneWeights() throws {
        let data = try data()
        var options = TrainingOptions()
        options.epochs = 5
        options.hidden = 16
        let result = Trainer.fit(train: data.train, validation: nil, classes: 10, options: options)
        let model = TrainedClassifier(backbone: "yamnet", backboneSHA256: data.trainer.backboneSHA256, classes: data.classes,
                                      mean: result.mean, scale: result.scale, head: result.head, recipe: options.record)
        let path = TestSupport.temporaryDirectory().appendingPathComponent("digits.audionet").path
        try model.save(to: path)
        let loaded = try ClipClassifier(contentsOf: path)
        #expect(loaded.model.classes == data.classes && loaded.model.recipe["hidden"] == "16")
        #expect(loaded.model.probabilities(embeddings: data.test.0).scalars == model.probabilities(embeddings: data.test.0).scalars)

        let other = TrainedClassifier(backbone: "yamnet", backboneSHA256: String(repeating: "0", count: 64), classes: data.classes,
                                      mean: result.mean, scale: result.scale, head: result.head)
        try other.save(to: path)
        #expect { try ClipClassifier(contentsOf: path) } throws: { "\($0)".contains("was trained on yamnet weights with SHA-256 000000000000") }
    }

    @Test func aFileThatIsNotAModelIsRefused() throws {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("x.audionet").path
        try Safetensors.write(["w": Tensor(shape: [1], scalars: [1])], path: path)
        #expect { try TrainedClassifier(contentsOf: path) } throws: { "\($0)".contains("is not an AudioNet classifier") }
    }
}

/// The model file's container against the reference safetensors library.
@Suite struct SafetensorsTests {
    @Test func readsAFileWrittenByTheReferenceLibrary() throws {
        let (tensors, metadata) = try Safetensors.read(path: TestSupport.fixture("training/reference.safetensors"))
        #expect(tensors["weight"]?.shape == [2, 3] && tensors["weight"]?.scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(tensors["bias"]?.scalars == [-1, 0.5] && metadata == ["audionet": "{\"format\": \"test\"}"])
    }

    @Test func writesWhatItReads() throws {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("t.safetensors").path
        let tensors = ["a": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), "b": Tensor(shape: [3], scalars: [-1, 0, 1])]
        try Safetensors.write(tensors, metadata: ["k": "v"], path: path)
        let (read, metadata) = try Safetensors.read(path: path)
        #expect(read["a"]?.scalars == [1, 2, 3, 4] && read["b"]?.shape == [3] && metadata == ["k": "v"])
    }

    /// A header length past the file, a range outside the data, and a shape larger than its range are refused.
    @Test func malformedFilesAreRefusedWithOneLine() throws {
        func file(header: String, data: Int = 0, length: UInt64? = nil) -> [UInt8] {
            let json = Array(header.utf8)
            return withUnsafeBytes(of: (length ?? UInt64(json.count)).littleEndian, Array.init) + json + [UInt8](repeating: 0, count: data)
        }
        let cases = [file(header: "{}", length: 1 << 40), file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4),
                     file(header: #"{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,8]}}"#, data: 8),
                     file(header: "[1, 2]"), [1, 2, 3]]
        for bytes in cases {
            #expect(throws: ModelFileError.self) { try Safetensors.decode(bytes) }
        }
    }
}
