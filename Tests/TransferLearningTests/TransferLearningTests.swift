import AudioNet
import Formats
import Foundation
import TestSupport
import Testing

/// YAMNet clip embeddings of all of FSDD, computed once for the suite, with each file's speaker and recording index
/// (file names are `digit_speaker_index.wav`).
struct FSDDEmbeddings: Sendable {
    let trainer: Trainer
    let classes: [String]
    let embeddings: Tensor
    let labels: [Int], speakers: [String], recordings: [Int]

    /// The rows `indices` with their labels.
    func rows(_ indices: [Int]) -> (Tensor, [Int]) { (embeddings.rows(indices), indices.map { labels[$0] }) }
}

let fsddEmbeddings: Result<FSDDEmbeddings, Error> = Result {
    guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else { throw DatasetError.notFound("$AUDIONET_WEIGHTS_MIRROR") }
    let files = try LabeledFiles(contentsOf: URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path)
    let trainer = try Trainer(backbone: "yamnet")
    let embedded = trainer.embed(files.paths)
    guard embedded.failures.isEmpty else { throw DatasetError.unreadable(embedded.failures[0].path) }
    let parts = files.paths.map { ($0 as NSString).lastPathComponent.dropLast(4).split(separator: "_") }
    return FSDDEmbeddings(trainer: trainer, classes: files.classes, embeddings: embedded.embeddings, labels: files.labels,
                          speakers: parts.map { String($0[1]) }, recordings: parts.map { Int($0[2])! })
}

@Suite(.serialized) struct TransferLearningTests {
    func data() throws -> FSDDEmbeddings {
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

    /// The shipped recipe (softmax regression, Adam with cosine decay and weight decay) and the linear reference,
    /// each trained on all the `train` files (nothing held out, as `--validation-split 0`), on the same embeddings:
    /// each one's test accuracy.
    func accuracies(data: FSDDEmbeddings, train: [Int], test: [Int], split: String) throws -> (audioNet: Double, reference: Double)? {
        guard let reference = try referenceAccuracy(train: data.rows(train), test: data.rows(test)) else { return nil }
        let result = Trainer.fit(train: data.rows(train), validation: nil, classes: 10)
        let model = TrainedClassifier(backbone: "yamnet", backboneSHA256: data.trainer.backboneSHA256, classes: data.classes,
                                      mean: result.mean, scale: result.scale, head: result.head)
        let (x, y) = data.rows(test)
        let accuracy = Evaluation(predicted: Evaluation.argmax(model.probabilities(embeddings: x)), truth: y, labels: data.classes).accuracy
        print("FSDD \(split): AudioNet head \(String(format: "%.3f", accuracy)), scikit-learn LogisticRegression \(String(format: "%.3f", reference))")
        return (accuracy, reference)
    }

    /// The dataset's index split (recordings 0–4 of each digit and speaker are the test set): at least the
    /// reference's accuracy minus one point.
    @Test func theHeadMatchesLogisticRegressionOnTheIndexSplit() throws {
        let data = try data()
        let indices = Array(data.labels.indices)
        guard let (accuracy, reference) = try accuracies(data: data, train: indices.filter { data.recordings[$0] >= 5 },
                                                         test: indices.filter { data.recordings[$0] < 5 }, split: "index split") else { return }
        #expect(accuracy >= reference - 0.01, "AudioNet \(accuracy), scikit-learn \(reference)")
    }

    /// Train on four speakers, test on the fifth, each speaker in turn: for every speaker, at least the reference's
    /// accuracy minus one point.
    @Test func theHeadMatchesLogisticRegressionOnUnseenSpeakers() throws {
        let data = try data()
        let indices = Array(data.labels.indices)
        var results: [(audioNet: Double, reference: Double)] = []
        for speaker in ["george", "jackson", "lucas", "nicolas", "theo"] {
            #expect(data.speakers.filter { $0 == speaker }.count == 500)
            guard let result = try accuracies(data: data, train: indices.filter { data.speakers[$0] != speaker },
                                              test: indices.filter { data.speakers[$0] == speaker }, split: "\(speaker) held out") else { return }
            #expect(result.audioNet >= result.reference - 0.01, "\(speaker): AudioNet \(result.audioNet), scikit-learn \(result.reference)")
            results.append(result)
        }
        let mean = results.map(\.audioNet).reduce(0, +) / 5, referenceMean = results.map(\.reference).reduce(0, +) / 5
        print("FSDD by speaker, mean of five: AudioNet head \(String(format: "%.3f", mean)), scikit-learn \(String(format: "%.3f", referenceMean))")
    }

    /// Train, save, load, classify: the same probabilities; a model whose backbone weights changed is refused.
    @Test func aSavedModelClassifiesAsTrainedAndRefusesOtherBackboneWeights() throws {
        let data = try data()
        var options = TrainingOptions()
        options.epochs = 5
        options.hidden = 16
        let indices = Array(data.labels.indices)
        let train = data.rows(indices.filter { data.recordings[$0] >= 5 }), test = data.rows(indices.filter { data.recordings[$0] < 5 })
        let result = Trainer.fit(train: train, validation: nil, classes: 10, options: options)
        let model = TrainedClassifier(backbone: "yamnet", backboneSHA256: data.trainer.backboneSHA256, classes: data.classes,
                                      mean: result.mean, scale: result.scale, head: result.head, recipe: options.record)
        let path = TestSupport.temporaryDirectory().appendingPathComponent("digits.audionet").path
        try model.save(to: path)
        let loaded = try ClipClassifier(contentsOf: path)
        #expect(loaded.model.classes == data.classes && loaded.model.recipe["hidden"] == "16")
        #expect(loaded.model.probabilities(embeddings: test.0).scalars == model.probabilities(embeddings: test.0).scalars)

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
