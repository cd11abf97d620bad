import AudioNet
import Testing

/// The README's library snippet, compiled with `import AudioNet` alone (the reason this target imports nothing
/// else) and run where the weights are reachable.
@Suite struct ReadmeSnippetTests {
    @Test func theReadmeSnippetCompilesWithOnlyImportAudioNetAndRuns() throws {
        let classifier: SoundClassifier
        do {
            classifier = try SoundClassifier.yamnet(precision: .int8)
        } catch {
            Issue.record("YAMNet weights not found (set AUDIONET_WEIGHTS_MIRROR): \(error)")
            return
        }
        let samples = (0..<32_000).map { Float($0 % 100) / 100 - 0.5 }  // a 160 Hz sawtooth
        let analysis = try classifier.analyze(samples: samples)
        #expect(classifier.topClasses(analysis, k: 3).count == 3)
        let network: Network = classifier.network
        #expect(network.nodes.contains { $0.layer is Int8Linear })
        // Names the README uses from the model definitions and the registry.
        #expect(Networks.audioEmbedding.contains("openl3-mel256-music-6144"))
        #expect(CREPE.Capacity.full.modelName == "crepe-full")
        #expect(PitchDecoding(decoder: .viterbi).decoder == .viterbi)
    }
}
