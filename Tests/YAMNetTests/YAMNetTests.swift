import AudioNet
import Foundation
import Formats
import Models
import NetCore
import TestSupport
import Testing

/// YAMNet with the official TF-Hub lite weights from the weight store (the mirror in CI).
/// A missing weight file fails the test with the message that names the fetch command.
let yamnet: Result<SoundClassifier, Error> = Result { try SoundClassifier.yamnet() }

func classifier() throws -> SoundClassifier { try TestSupport.requireWeights("YAMNet", yamnet) }

/// The same weights at ``Precision/int8`` (LiteRT's dynamic-range scheme).
let yamnetInt8: Result<SoundClassifier, Error> = Result { try SoundClassifier.yamnet(precision: .int8) }

func int8Classifier() throws -> SoundClassifier { try TestSupport.requireWeights("YAMNet", yamnetInt8) }

func yamnetFixture(_ name: String) throws -> Tensor { try NPY.read(path: TestSupport.fixture("yamnet/\(name).npy")).tensor }

@Suite struct YAMNetTests {
    static let signals = ["silence", "noise", "speech", "tone"]

    @Test func fixturesBelongToTheWeightFileInUse() throws {
        let path = try WeightStore.fromEnvironment().locate(YAMNet.tfliteFile)
        let expected = try String(contentsOfFile: TestSupport.fixture("yamnet/source.txt"), encoding: .utf8)
        #expect(expected.contains(YAMNet.tfliteFile.sha256!))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(output.hasPrefix(YAMNet.tfliteFile.sha256!))
    }

    /// The whole path from the audio file against a float YAMNet built in PyTorch from the same TFLite tensors
    /// with the exact front end (Tests/Reference/make_yamnet_fixtures.py).
    @Test(arguments: signals) func scoresAndEmbeddingsEqualTheSameWeightsReference(signal: String) throws {
        let analysis = try classifier().analyze(file: TestSupport.fixture("frontend/\(signal).wav"))
        let scores = try yamnetFixture("\(signal).scores"), embeddings = try yamnetFixture("\(signal).embeddings")
        #expect(analysis.scores.shape == scores.shape && analysis.embeddings.shape == embeddings.shape)
        let scoreError = TestSupport.maxAbsDifference(analysis.scores.scalars, scores.scalars)
        let embeddingError = TestSupport.maxAbsDifference(analysis.embeddings.scalars, embeddings.scalars)
        #expect(scoreError <= 1e-4, "\(signal): max |score difference| \(scoreError)")
        #expect(embeddingError <= 1e-4, "\(signal): max |embedding difference| \(embeddingError)")
    }

    /// LiteRT runs the same file with int8 kernels and an int8 DFT: fed LiteRT's own log-mel patches,
    /// the float network stays within 0.05 of its scores.
    @Test(arguments: signals) func networkStaysCloseToLiteRTOnItsOwnLogMel(signal: String) throws {
        let patches = try yamnetFixture("\(signal).litert_logmel"), reference = try yamnetFixture("\(signal).litert_scores")
        let scores = try classifier().run(patches: patches, outputs: ["predictions"])["predictions"]!
        let error = TestSupport.maxAbsDifference(scores.scalars, reference.scalars)
        #expect(error <= 0.05, "\(signal): max |score − LiteRT| \(error)")
    }

    @Test(arguments: ["silence", "noise", "speech"]) func clipTopClassAgreesWithLiteRT(signal: String) throws {
        let classifier = try classifier()
        let ours = classifier.topClasses(try classifier.analyze(file: TestSupport.fixture("frontend/\(signal).wav")), k: 1)[0]
        let lite = try yamnetFixture("\(signal).litert_scores")
        let classes = lite.shape[1], rows = lite.shape[0]
        let mean = (0..<classes).map { c in (0..<rows).reduce(Float(0)) { $0 + lite.scalars[$1 * classes + c] } }
        #expect(ours.index == mean.indices.max { mean[$0] < mean[$1] }!, "\(signal): ours \(ours.label)")
    }

    /// The int8 path quantizes as LiteRT's hybrid kernels do: on LiteRT's own log-mel patches its scores
    /// stay within 0.05 of LiteRT's, and on the audio files within 0.05 of the exact float path.
    @Test(arguments: signals) func int8ScoresStayCloseToLiteRTAndToFloat(signal: String) throws {
        let patches = try yamnetFixture("\(signal).litert_logmel"), reference = try yamnetFixture("\(signal).litert_scores")
        let scores = try int8Classifier().run(patches: patches, outputs: ["predictions"])["predictions"]!
        let liteError = TestSupport.maxAbsDifference(scores.scalars, reference.scalars)
        #expect(liteError <= 0.05, "\(signal): max |int8 score − LiteRT| \(liteError)")
        let file = TestSupport.fixture("frontend/\(signal).wav")
        let int8 = try int8Classifier().analyze(file: file), float = try classifier().analyze(file: file)
        let floatError = TestSupport.maxAbsDifference(int8.scores.scalars, float.scores.scalars)
        #expect(floatError <= 0.05, "\(signal): max |int8 score − float32| \(floatError)")
        #expect(floatError > 0, "\(signal): the int8 path must actually quantize")
        print("int8 \(signal): max |Δ| vs LiteRT \(liteError), vs float32 \(floatError)")
    }

    @Test(arguments: ["silence", "noise", "speech"]) func int8ClipTopClassAgreesWithFloat(signal: String) throws {
        let file = TestSupport.fixture("frontend/\(signal).wav")
        let int8 = try int8Classifier(), float = try classifier()
        #expect(int8.topClasses(try int8.analyze(file: file), k: 1) .map(\.index) == float.topClasses(try float.analyze(file: file), k: 1).map(\.index))
    }

    /// Many patches run as batches side by side on the cores; each row must be the row that patch gets alone.
    @Test func batchesSideBySideGiveEachPatchItsOwnRow() throws {
        let classifier = try classifier()
        let parts = try Self.signals.map { try yamnetFixture("\($0).litert_logmel") }
        let rows = parts.flatMap { part in (0..<part.shape[0]).map { Array(part.scalars[$0 * 96 * 64..<($0 + 1) * 96 * 64]) } }
        let many = Array(repeating: rows, count: 3).flatMap { $0 }  // more batches than cores
        let together = try classifier.run(patches: Tensor(shape: [many.count, 96, 64], scalars: many.flatMap { $0 }),
                                           outputs: ["predictions"])["predictions"]!
        #expect(together.shape == [many.count, 521])
        for index in stride(from: 0, to: many.count, by: 7) {
            let alone = try classifier.network.run(Tensor(shape: [1, 96, 64], scalars: many[index]))
            let row = Array(together.scalars[index * 521..<(index + 1) * 521])
            #expect(TestSupport.maxAbsDifference(row, alone.scalars) <= 1e-5, "patch \(index)")
        }
    }

    /// yamnet_test.py: 3 s of silence → top-1 Silence; 3 s of uniform noise → White noise in the top 10.
    @Test func silenceIsTopOneSilence() throws {
        let classifier = try classifier()
        let top = classifier.topClasses(try classifier.analyze(samples: [Float](repeating: 0, count: 48_000)), k: 1)
        #expect(top.first?.label == "Silence")
    }

    @Test func uniformNoiseHasWhiteNoiseInTopTen() throws {
        let classifier = try classifier()
        var generator = SeededGenerator(seed: 3)
        let noise = (0..<48_000).map { _ in Float.random(in: -1...1, using: &generator) }
        let top = classifier.topClasses(try classifier.analyze(samples: noise), k: 10).map(\.label)
        #expect(top.contains("White noise"), "top 10: \(top)")
    }

    @Test func audioShorterThanOnePatchIsPaddedToOnePatch() throws {
        let analysis = try classifier().analyze(samples: [Float](repeating: 0, count: 4000))
        #expect(analysis.patchCount == 1)
        #expect(analysis.scores.scalars.allSatisfy { $0.isFinite })
    }

    /// Samples/speech-between-silences.wav: 2 s of silence, speech, 2 s of silence.
    @Test func speechEventStartsAndEndsWithinOneHopOfTheTruth() throws {
        let classifier = try classifier()
        let analysis = try classifier.analyze(file: TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path)
        let ontology = try Ontology(path: try WeightStore.fromEnvironment().locate(YAMNet.ontologyFile))
        let events = SoundEventDetector(labels: classifier.labels, ontology: ontology, options: EventOptions()).events(in: analysis)
        let speech = events.filter { $0.label == "Speech" }
        #expect(speech.count == 1, "events: \(events)")
        let truthStart = 2.0, truthEnd = analysis.duration - 2.0
        if let event = speech.first {
            #expect(abs(event.start - truthStart) <= analysis.hopSeconds, "start \(event.start)")
            #expect(abs(event.end - truthEnd) <= analysis.hopSeconds, "end \(event.end) vs \(truthEnd)")
        }
        #expect(events.contains { $0.label == "Silence" && $0.start == 0 })
    }

    @Test func lowSpecificityReportsTopLevelCategories() throws {
        let classifier = try classifier()
        let analysis = try classifier.analyze(file: TestSupport.fixture("frontend/speech.wav"))
        let ontology = try Ontology(path: try WeightStore.fromEnvironment().locate(YAMNet.ontologyFile))
        let low = SoundEventDetector(labels: classifier.labels, ontology: ontology, options: EventOptions(specificity: .low))
        let labels = Set(low.events(in: analysis).map(\.label))
        #expect(labels.contains("Speech"), "\(labels)")
        // Each reported class is top-level among the classes: no ancestor of it in the ontology is a class.
        let classes = Set(classifier.labels.mids)
        for label in labels {
            let mid = classifier.labels.mids[classifier.labels.names.firstIndex(of: label)!]
            #expect(ontology.ancestors(of: mid).isDisjoint(with: classes), "\(label) has an ancestor among the classes")
        }
    }

    @Test func layerTableCountsYAMNetsParameters() throws {
        let rows = try YAMNet.network(weights: nil).summary
        // Keras' trainable count for yamnet.py; its 21,888 BatchNorm statistics make the 3.75 M total MATLAB lists.
        let parameters = rows.reduce(0) { $0 + $1.parameters }
        #expect(parameters == 3_729_481, "\(parameters) parameters")
        #expect(rows.last?.outputShape == [521] && rows.first { $0.name == "embeddings" }?.outputShape == [1024])
    }
}

@Suite struct TFLiteImporterTests {
    func modelBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try WeightStore.fromEnvironment().locate(YAMNet.tfliteFile))))
    }

    @Test func readsTheModelsTensorsAndOperators() throws {
        let model = try TFLiteModel(bytes: try modelBytes())
        #expect(model.operators.filter { $0.code == .conv2D }.count == 14)
        #expect(model.operators.filter { $0.code == .depthwiseConv2D }.count == 13)
        let dense = try model.floats(model.tensorIndex(named: "yamnet_frames/dense/MatMul")!)
        #expect(dense.shape == [521, 1024] && dense.scalars.allSatisfy { $0.isFinite && abs($0) < 2 })
    }

    /// Every weight of the file binds by its TF Lite name: 27 kernels, 27 folded biases and the classifier; the
    /// rest are the model's own front end and shape operands, declared unused.
    @Test func theTensorsBindToYAMNetByName() throws {
        let state = try YAMNet.stateDict(tflite: TFLiteModel(bytes: try modelBytes()))
        let weights = state.keys.filter { key in !YAMNet.unusedTFLiteScopes.contains { key.hasPrefix($0) } }
        #expect(weights.count == 27 * 2 + 2, "\(weights.sorted())")
        #expect(state["layer1/conv/kernel"]?.shape == [3, 3, 1, 32])
        #expect(state["layer14/depthwise_conv/depthwise_kernel"]?.shape == [3, 3, 1024, 1])
        #expect(state["layer14/pointwise_conv/kernel"]?.shape == [1, 1, 1024, 1024])
        #expect(state["layer14/pointwise_conv/bias"]?.shape == [1024])
        #expect(state["dense/kernel"]?.shape == [1024, 521] && state["dense/bias"]?.shape == [521])
        #expect { try YAMNet.network(weights: state) } throws: { "\($0)".contains("unexpected keys: global_average_pooling2d/") }
    }

    @Test func truncatedFilesAreRejectedWithoutCrashing() throws {
        let bytes = try modelBytes()
        for length in [0, 4, 8, 16, 100, 1000, bytes.count / 3, bytes.count - 1000] {
            #expect(throws: (any Error).self, "length \(length)") { try TFLiteModel(bytes: Array(bytes.prefix(length))) }
        }
    }

    @Test func corruptedOffsetsNeverCrash() throws {
        let bytes = try modelBytes()
        var generator = SeededGenerator(seed: 5)  // seeded, so that a failure reproduces
        // Corrupt bytes in the FlatBuffer's tables (the first and last kilobytes hold the root and vtables).
        var imported = 0, rejected = 0
        for _ in 0..<200 {
            var copy = bytes
            for _ in 0..<8 {
                let position = Bool.random(using: &generator) ? Int.random(in: 0..<2048, using: &generator)
                                                               : Int.random(in: (bytes.count - 65_536)..<bytes.count, using: &generator)
                copy[position] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                _ = try YAMNet.network(weights: YAMNet.stateDict(tflite: TFLiteModel(bytes: copy)), unused: YAMNet.unusedTFLiteScopes)
                imported += 1
            } catch let error where error is ModelFileError || error is NetworkError {
                rejected += 1
            } catch {
                Issue.record("a corrupted model gave \(type(of: error)), not a file or weights error: \(error)")
            }
        }
        // Each corruption imports or is refused with a file or weights error; some must be noticed.
        #expect(imported + rejected == 200 && rejected > 0, "\(imported) imported, \(rejected) rejected")
    }

    @Test func notATFLiteFileIsRejected() {
        #expect(throws: ModelFileError.self) { try TFLiteModel(bytes: Array("definitely not a flatbuffer".utf8)) }
    }
}

/// The official Keras weights' layout: a `yamnet.h5` written by h5py as `Model.save_weights` writes yamnet.py's
/// model (BatchNorm unfolded, the Dense unnamed), holding the TF Lite file's values
/// (Tests/Reference/make_yamnet_keras_h5.py, run by `make generated-fixtures`).
@Suite struct YAMNetKerasWeightsTests {
    static let path = TestSupport.repositoryRoot.appendingPathComponent(".build/generated-fixtures/yamnet-synthetic.h5").path

    func kerasStateDict() throws -> [String: Tensor]? {
        guard FileManager.default.fileExists(atPath: Self.path) else {
            Issue.record("\(Self.path) is missing, so the Keras weights cannot be checked: run `make generated-fixtures`")
            return nil
        }
        return try KerasWeights(path: Self.path).stateDict
    }

    @Test(arguments: ["speech", "noise"]) func kerasWeightsGiveTheTFLiteScoresOnTheWholePath(signal: String) throws {
        guard try kerasStateDict() != nil else { return }
        let file = TestSupport.fixture("frontend/\(signal).wav")
        let keras = try SoundClassifier.yamnet(weightsPath: Self.path).analyze(file: file)
        let tflite = try classifier().analyze(file: file)
        let reference = try yamnetFixture("\(signal).scores")
        #expect(keras.scores.shape == tflite.scores.shape)
        let error = TestSupport.maxAbsDifference(keras.scores.scalars, tflite.scores.scalars)
        let referenceError = TestSupport.maxAbsDifference(keras.scores.scalars, reference.scalars)
        #expect(error <= 1e-5, "\(signal): max |Keras − TF Lite score| \(error)")
        #expect(referenceError <= 1e-4, "\(signal): max |Keras − reference score| \(referenceError)")
    }

    @Test func theKerasNetworkKeepsItsBatchNormLayers() throws {
        guard let state = try kerasStateDict() else { return }
        let names = try YAMNet.network(weights: state).nodeNames
        #expect(names.filter { $0.hasSuffix("/bn") }.count == 27)
    }

    @Test func aWeightNoLayerTakesIsAnErrorNamingIt() throws {
        guard var state = try kerasStateDict() else { return }
        state["dense_1/kernel"] = Tensor(shape: [1], scalars: [0])
        #expect { try YAMNet.network(weights: state) } throws: { "\($0)".contains("unexpected keys: dense_1/kernel") }
    }

    @Test func aMissingWeightIsAnErrorNamingIt() throws {
        guard var state = try kerasStateDict() else { return }
        state["layer5/pointwise_conv/bn/moving_mean"] = nil
        #expect { try YAMNet.network(weights: state) } throws: { "\($0)".contains("layer5/pointwise_conv/bn/moving_mean") }
    }
}
