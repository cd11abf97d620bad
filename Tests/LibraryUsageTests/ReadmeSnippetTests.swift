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

    /// The README's live snippet, on 3 s of a 440 Hz tone at 48 kHz in 20 ms buffers standing for a microphone's.
    @Test func theReadmeLiveSnippetCompilesWithOnlyImportAudioNetAndRuns() async throws {
        // The tone by a rotating phasor: cos and sin of 2π·440/48000 (this target imports no Foundation).
        let (cosine, sine) = (0.9983418166140283, 0.057564026959567284)
        var (x, y) = (1.0, 0.0), tone: [Float] = []
        for _ in 0..<150 * 960 {
            tone.append(Float(0.4 * y))
            (x, y) = (x * cosine - y * sine, x * sine + y * cosine)
        }
        func buffers() -> AsyncStream<[Float]> {
            AsyncStream { continuation in
                for buffer in 0..<150 { continuation.yield(Array(tone[buffer * 960..<(buffer + 1) * 960])) }
                continuation.finish()
            }
        }
        var microphoneBuffers = buffers()
        let estimator: PitchEstimator
        let classifier: SoundClassifier
        do {
            estimator = try PitchEstimator.crepe(.tiny)
            classifier = try SoundClassifier.yamnet()
        } catch {
            Issue.record("CREPE or YAMNet weights not found (make weights, AUDIONET_WEIGHTS_MIRROR): \(error)")
            return
        }
        var frequencies: [Double] = []
        for try await frames in estimator.frames(of: microphoneBuffers, sampleRate: 48_000) {
            for (_, frequency) in zip(frames.times, frames.frequencies) { frequencies.append(frequency) }
        }
        #expect(frequencies.count == 301)
        #expect(frequencies[50..<250].allSatisfy { abs($0 / 440 - 1) < 0.006 }, "the tone's pitch, within 10 cents")
        microphoneBuffers = buffers()  // a stream is read once: the events take a second one
        let detector = SoundEventDetector(labels: classifier.labels, ontology: nil, options: EventOptions(specificity: .none))
        var labels: [String] = []
        for try await update in classifier.events(of: microphoneBuffers, sampleRate: 48_000, detector: detector) {
            if case .closed(let event) = update { labels.append(event.label) }
        }
        #expect(labels.contains("Dial tone"), "a steady 440 Hz tone: \(labels)")
    }
}
