import AudioNet
import Foundation
import Testing

/// The one audio task pipeline, driven by the descriptors alone (placeholder weights: only shapes and times matter).
@Suite struct AudioPipelineTests {
    /// Two seconds of a 440 Hz sine at `rate`.
    func sine(rate: Int) -> [Float] { (0..<2 * rate).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) } }

    func embedder(_ name: String) throws -> AudioEmbedder {
        try AudioEmbedder(pipeline: AudioPipeline(name: name, network: Networks.architecture(named: name)))
    }

    @Test func everyEmbeddingNetworkOfTheRegistryIsOffered() {
        let names = Networks.audioEmbedding
        #expect(["yamnet", "vggish", "openl3", "openl3-mel128-env-512", "crepe-tiny"].allSatisfy(names.contains), "\(names)")
        #expect(!names.contains("resnet50"), "\(names)")
    }

    /// Rows, widths and times as each network's front end defines them for 2 s: YAMNet 0.96 s patches every 0.48 s,
    /// the signal padded to whole patches (features.pad_waveform: 4); VGGish 0.96 s examples without overlap (2);
    /// OpenL3 1 s windows every 0.1 s after half a window of zeros, up to the last whole window (torchopenl3: 16);
    /// CREPE a centred frame every 10 ms, its fifth block's 8 × 32 values (tiny).
    @Test(arguments: [("yamnet", 4, 1024, 0.48), ("vggish", 2, 128, 0.96), ("openl3-mel128-env-512", 16, 512, 0.1), ("crepe-tiny", 201, 256, 0.01)])
    func embeddingsHaveARowPerExampleAtItsTime(name: String, rows: Int, width: Int, hop: Double) throws {
        let embedder = try embedder(name)
        let (embeddings, times) = try embedder.embed(samples: sine(rate: embedder.pipeline.input.sampleRate))
        #expect(embeddings.shape == [rows, width])
        #expect(times.count == rows && times.enumerated().allSatisfy { abs($0.element - Double($0.offset) * hop) < 1e-9 }, "\(times)")
    }

    @Test func aHopCanBeSetWhereTheNetworkAllowsIt() throws {
        let (embeddings, times) = try embedder("openl3-mel128-env-512").embed(samples: sine(rate: 48_000), hopSeconds: 0.5)
        #expect(embeddings.shape[0] == 4 && times == [0, 0.5, 1, 1.5])
    }

    /// YAMNet's patches start on its 10 ms frames: a hop of whole frames is taken (0.1 s: a patch every 10 frames), a
    /// hop between frames is refused.
    @Test func aLogMelHopIsAWholeNumberOfFrames() throws {
        let (embeddings, times) = try embedder("yamnet").embed(samples: sine(rate: 16_000), hopSeconds: 0.1)
        #expect(embeddings.shape[0] == times.count && times.prefix(3) == [0, 0.1, 0.2])
        #expect { try embedder("yamnet").embed(samples: sine(rate: 16_000), hopSeconds: 0.105) } throws: {
            "\($0)".contains("yamnet's hop must be a whole number of its 0.01 s frames")
        }
    }

    @Test func aHopUnderOneSampleIsRefused() throws {
        let pipeline = try AudioPipeline(name: "crepe-tiny", network: Networks.architecture(named: "crepe-tiny"))
        #expect { try pipeline.run(samples: sine(rate: 16_000), outputs: ["classifier"], hopSeconds: 1e-6) } throws: {
            "\($0)".contains("at least one sample")
        }
    }

    @Test func anImageNetworkIsNotAnAudioNetwork() {
        #expect { try AudioPipeline.load("resnet18") } throws: { "\($0)".contains("'resnet18' is not an audio network") }
    }

    @Test func aNetworkWithoutEmbeddingsCannotEmbed() throws {
        #expect { try AudioEmbedder.load("resnet18") } throws: {
            "\($0)".contains("'resnet18' gives no audio embeddings (embedding networks: yamnet, crepe-full,")
        }
    }

    @Test func onlyANetworkWithPostprocessingCanPostprocess() {
        #expect { try AudioEmbedder.load("openl3", postprocess: true) } throws: { "\($0)".contains("openl3 has no embedding postprocessing") }
    }
}

/// The liveness plan of real networks: concatenations (GoogLeNet, DenseNet), residuals (ResNet), depthwise
/// blocks (MobileNetV2, YAMNet), squeeze-and-excite (EfficientNet).
@Suite struct ActivationPlanOfTheCatalogTests {
    @Test(arguments: ["yamnet", "crepe-full", "googlenet", "resnet50", "densenet201", "mobilenetv2", "efficientnetb0"])
    func planKeepsLiveActivationsApartAndReusesTheRest(name: String) throws {
        let plan = try Networks.architecture(named: name).optimized().activationPlan(batch: 4)
        #expect(plan.isConsistent, "\(name): two live activations share memory")
        #expect(plan.arenaSize >= plan.peakLiveSize)
        // Whole buffers cannot straddle slots, so the plan exceeds the bound no plan can beat; here by 1.10× (DenseNet)
        // to 1.53× (GoogLeNet, whose four branches feed a concatenation), and stays well below keeping everything.
        #expect(Double(plan.arenaSize) <= 1.6 * Double(plan.peakLiveSize), "\(name): \(plan.arenaSize) vs \(plan.peakLiveSize)")
        #expect(Double(plan.arenaSize) < 0.6 * Double(plan.totalSize), "\(name): \(plan.arenaSize) of \(plan.totalSize)")
    }
}
