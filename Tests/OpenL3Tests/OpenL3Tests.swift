import AudioIO
import AudioNet
import DSP
import Formats
import Foundation
import Models
import NetCore
import TestSupport
import Testing

func openL3Fixture(_ name: String) throws -> Tensor { try NPY.read(path: TestSupport.fixture("openl3/\(name).npy")).tensor }

@Suite struct OpenL3Tests {
    static let audio = TestSupport.fixture("openl3/audio48k.wav")

    /// Our front ends against torchopenl3's speclayer (kapre 0.1.4 arithmetic) on the first two windows.
    @Test(arguments: OpenL3FrontEnd.Representation.allCases) func frontEndMatchesTorchOpenL3(_ representation: OpenL3FrontEnd.Representation) throws {
        let samples = try AudioFileReader.readMono(path: Self.audio).samples
        let (spectrograms, times) = OpenL3FrontEnd(representation).spectrograms(samples: samples)
        let reference = try openL3Fixture("\(representation.rawValue).spectrogram")
        #expect(spectrograms.shape == [21] + reference.shape.dropFirst())
        #expect(times.count == 21 && abs(times[1] - 0.1) < 1e-12)
        let ours = Array(spectrograms.scalars[0..<reference.count])
        let error = TestSupport.maxAbsDifference(ours, reference.scalars)
        #expect(error <= 1e-3, "\(representation): max abs difference \(error) dB")
    }

    /// With the closed-form weights torchopenl3 ran with in the fixture script: the network on torchopenl3's own
    /// spectrograms within 1e-4 (relative), and the whole path from the audio file within 1e-3 — there the
    /// reference's float32 DFT-by-convolution, about 1e-3 dB off the exact spectrum, dominates.
    @Test(arguments: ["mel256-music-6144", "mel128-env-512", "linear-music-512"]) func embeddingsMatchTorchOpenL3(_ name: String) throws {
        let configuration = try #require(OpenL3.Configuration(modelName: "openl3-\(name)"))
        let weights = try TestSupport.closedFormStateDict(layout: "openl3/\(name).layout.txt")
        let embedder = try AudioEmbedder(pipeline: AudioPipeline(name: configuration.modelName, network: OpenL3.network(configuration, weights: weights)))
        let reference = try openL3Fixture("\(name).embeddings")
        let scale = max(1, reference.scalars.map(abs).max()!)
        let size = configuration.embeddingSize

        let spectrograms = try openL3Fixture("\(configuration.representation.rawValue).spectrogram")
        let onReferenceInput = try BatchRunner(network: embedder.pipeline.network, batchSize: 8).run(examples: spectrograms, outputs: [embedder.node])[embedder.node]!
        let networkError = TestSupport.maxAbsDifference(onReferenceInput.scalars, Array(reference.scalars[0..<2 * size])) / scale
        #expect(networkError <= 1e-4, "\(name): network relative error \(networkError)")

        let ours = try embedder.embed(file: Self.audio).embeddings
        #expect(ours.shape == reference.shape)
        let error = TestSupport.maxAbsDifference(ours.scalars, reference.scalars) / scale
        #expect(error <= 1e-3, "\(name): whole-path relative error \(error)")
    }

    /// A stream's windows are cut as its samples arrive (44.1 kHz, resampled block by block): 12 s give 116 windows (centred every 0.1 s, the last at 11.5 s)
    /// in several groups of batches, and the embeddings and times are the whole signal's to the bit.
    @Test func streamedEmbeddingsAreTheWholeSignals() throws {
        let configuration = try #require(OpenL3.Configuration(modelName: "openl3-mel128-env-512"))
        let weights = try TestSupport.closedFormStateDict(layout: "openl3/mel128-env-512.layout.txt")
        let embedder = try AudioEmbedder(pipeline: AudioPipeline(name: configuration.modelName, network: OpenL3.network(configuration, weights: weights)))
        let path = TestSupport.temporaryDirectory().appendingPathComponent("twelve-seconds.wav").path
        let tone = (0..<12 * 44_100).map { n -> Float in
            let t = Double(n) / 44_100
            return Float(0.3 * sin(2 * Double.pi * (300 + 20 * t) * t))  // a glide up from 300 Hz
        }
        try AudioFileWriter.write(path: path, samples: tone, sampleRate: 44_100, encoding: .float32)
        let whole = try embedder.embed(file: path)
        var rows: [Float] = [], groups = 0
        let times = try embedder.embed(stream: AudioFileStream(opening: path, sampleRate: OpenL3FrontEnd.sampleRate)) {
            rows += $0.scalars
            groups += 1
        }
        #expect(whole.times.count == 116 && times == whole.times, "\(times.count) streamed, \(whole.times.count) whole")
        #expect(groups > 1 && rows == whole.embeddings.scalars, "\(rows.count) values; max difference \(TestSupport.maxAbsDifference(rows, whole.embeddings.scalars))")
    }

    @Test func configurationNamesCoverTwelveModels() {
        #expect(OpenL3.configurations.count == 12)
        #expect(OpenL3.Configuration(modelName: "openl3-mel256-music-6144")?.weightFile == "openl3/torchopenl3_mel256_music_6144.pth.tar")
        #expect(OpenL3.Configuration(modelName: "openl3-mel64-music-512") == nil)
    }

    /// `audionet weights fetch openl3-mel128-env-512` fetches that configuration's file, not the default's.
    @Test func eachConfigurationNeedsItsOwnWeightFile() throws {
        let descriptor = try #require(Networks.named("openl3-mel128-env-512"))
        #expect(descriptor.files(for: "openl3-mel128-env-512").map(\.path) == ["openl3/torchopenl3_mel128_env_512.pth.tar"])
        #expect(descriptor.files(for: "openl3").map(\.path) == ["openl3/torchopenl3_mel256_music_6144.pth.tar"])
    }

    @Test func windowsAreCentredAndPaddedToWholeHops() {
        let (count, hop, padded) = OpenL3FrontEnd.windows([Float](repeating: 1, count: 48_000), hopSeconds: 0.1, center: true)
        #expect(hop == 4800 && count == 6 && padded.count == 48_000 + 5 * 4800)
        #expect(padded[23_999] == 0 && padded[24_000] == 1)
        #expect(OpenL3FrontEnd.windows([1, 2, 3], hopSeconds: 0.1, center: false).count == 1)
    }
}

@Suite struct OpenL3KerasImportTests {
    /// The official Keras layout (layer_names, weight_names, HWIO kernels, gamma/beta/moving statistics) maps to
    /// exactly the tensors torchopenl3 holds under its own names.
    @Test func kerasWeightsMapToTorchOpenL3Names() throws {
        let keras = try KerasWeights(path: TestSupport.fixture("openl3/keras_partial.h5"))
        let state = try OpenL3.stateDict(keras: keras)
        let reference = try TestSupport.closedFormStateDict(layout: "openl3/mel128-env-512.layout.txt")
        #expect(state.count == 16)  // three BatchNorms × 4, two convolutions × 2
        for (name, tensor) in state {
            #expect(tensor == reference[name], "\(name)")
        }
    }
}
