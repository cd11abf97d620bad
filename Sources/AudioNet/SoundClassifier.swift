import AudioIO
import DSP
import Formats
import Models
import NetCore

/// Per-patch results for one signal: YAMNet's, or a trained model's on its backbone's examples.
public struct PatchAnalysis: Sendable {
    /// Scores `[N, classes]`: YAMNet's 521 sigmoid scores, or a trained model's probabilities over its classes.
    public let scores: Tensor
    /// Embeddings `[N, features]` (YAMNet: 1024).
    public let embeddings: Tensor
    /// Seconds between patch starts (YAMNet: 0.48 s).
    public let hopSeconds: Double
    /// Seconds from the start to the first patch's centre (YAMNet: 0.48 s, half a patch).
    public let firstCentreSeconds: Double
    /// Duration of the analysed audio before padding, in seconds.
    public let duration: Double

    /// Number of patches.
    public var patchCount: Int { scores.shape[0] }
    /// Mean score of each class over the patches.
    public var meanScores: [Float] { AudioEmbedder.pool(scores, .mean).scalars }
}

/// A class and its score.
public struct ClassScore: Sendable, Equatable {
    public let index: Int
    public let label: String
    public let score: Float
}

/// Sound classification into the 521 AudioSet classes with YAMNet (MATLAB's `classifySound`).
public final class SoundClassifier: Sendable {
    /// YAMNet's task pipeline: its exact log-mel front end, patches in batches, the network.
    public let pipeline: AudioPipeline
    public let labels: ClassLabels

    /// The network, BatchNorm and ReLU folded.
    public var network: Network { pipeline.network }

    /// Runs `network` (a YAMNet, prepared here) at `precision`; ``Precision/float32`` is the exact path.
    public init(network: Network, labels: ClassLabels, precision: Precision = .float32) {
        pipeline = AudioPipeline(name: YAMNet.descriptor.name, input: YAMNet.descriptor.audio!(YAMNet.descriptor.name),
                                 network: network, precision: precision)
        self.labels = labels
    }

    /// YAMNet with the official TF-Hub lite weights (`yamnet/yamnet.tflite`) and class map, found through
    /// `store`, or with the weights at `weightsPath` (a TF Lite model or the Keras `yamnet.h5`), run at `precision`.
    public static func yamnet(store: WeightStore = .fromEnvironment(), weightsPath: String? = nil,
                              precision: Precision = .float32) throws -> SoundClassifier {
        let network = try YAMNet.network(store: store, weightsPath: weightsPath)
        let labels = try ClassLabels(classMapCSV: try store.locate(YAMNet.classMapFile))
        guard labels.names.count == YAMNet.classCount else {
            throw LabelFileError.malformed(path: "yamnet_class_map.csv", reason: "\(labels.names.count) classes, expected \(YAMNet.classCount)")
        }
        return SoundClassifier(network: network, labels: labels, precision: precision)
    }

    /// Runs patches `[N, 96, 64]` in batches and returns the requested nodes' outputs, concatenated.
    public func run(patches: Tensor, outputs: [String] = ["predictions", "embeddings"]) throws -> [String: Tensor] {
        try BatchRunner(network: network, batchSize: pipeline.input.batchSize).run(examples: patches, outputs: outputs)
    }

    /// Analyses 16 kHz mono samples: YAMNet's padding, the exact log-mel front end, then the network batch by
    /// batch (patches are cut from the log-mel frames one batch at a time), a patch every `hopSeconds` (default
    /// 0.48; yamnet's `patch_hop_seconds`, a whole number of 10 ms frames).
    public func analyze(samples: consuming [Float], hopSeconds: Double? = nil) throws -> PatchAnalysis {
        analysis(try pipeline.run(samples: samples, outputs: ["predictions", "embeddings"], hopSeconds: hopSeconds))
    }

    /// Decodes `path` (any format libsndfile reads), resamples to 16 kHz mono and analyses it.
    public func analyze(file path: String, hopSeconds: Double? = nil) throws -> PatchAnalysis {
        analysis(try pipeline.run(file: path, outputs: ["predictions", "embeddings"], hopSeconds: hopSeconds))
    }

    /// Classifies a stream (at 16 kHz) as it is decoded, keeping of each patch only its part in the events (with
    /// `detector`) and in the mean scores: memory stays a short file's, whatever the stream's length. The events and
    /// mean scores are bit for bit those of ``analyze(samples:hopSeconds:)`` on the whole signal.
    public func classify(stream: some SampleStream, hopSeconds: Double? = nil,
                         detector: SoundEventDetector?) throws -> (events: [SoundEvent], meanScores: [Float], duration: Double) {
        var events: [SoundEvent] = []
        let (meanScores, duration) = try classify(stream: stream, hopSeconds: hopSeconds, detector: detector, live: false) { closed, _ in
            events += closed
        }
        return (events.sorted { ($0.start, $1.score) < ($1.start, $0.score) }, meanScores, duration)
    }

    /// Classifies a stream as it arrives, handing `report` after each group of patches the events that have closed
    /// (each once; the last call closes the rest) and those still open, as far as they go. With `live` the patches
    /// each block completes are run at once (see ``AudioPipeline/run(stream:outputs:hopSeconds:live:_:)``): an event
    /// is reported about one patch hop plus the network's time after the audio that closes it.
    public func classify(stream: some SampleStream, hopSeconds: Double? = nil, detector: SoundEventDetector?, live: Bool,
                         report: (_ closed: [SoundEvent], _ open: [SoundEvent]) throws -> Void) throws -> (meanScores: [Float], duration: Double) {
        var tracker = detector?.tracker(hopSeconds: try pipeline.hop(hopSeconds), firstCentreSeconds: pipeline.input.firstCentreSeconds)
        var mean = AudioEmbedder.Pooled(.mean, size: labels.names.count)
        let duration = try pipeline.run(stream: stream, outputs: ["predictions"], hopSeconds: hopSeconds, live: live) { outputs, secondsRead in
            let scores = outputs["predictions"]!, classes = scores.shape[1]
            mean.add(scores)
            for patch in 0..<scores.shape[0] { tracker?.add(scores.scalars[patch * classes..<(patch + 1) * classes]) }
            if tracker != nil {
                try report(tracker!.takeClosedEvents(secondsRead: secondsRead), tracker!.openEvents(secondsRead: secondsRead))
            }
        }.duration
        if let tracker { try report(tracker.events(duration: duration), []) }
        return (mean.result.scalars, duration)
    }

    private func analysis(_ result: AudioPipelineResult) -> PatchAnalysis {
        PatchAnalysis(scores: result.outputs["predictions"]!, embeddings: result.outputs["embeddings"]!,
                      hopSeconds: result.hopSeconds, firstCentreSeconds: pipeline.input.firstCentreSeconds, duration: result.duration)
    }

    /// The `k` classes with the highest mean patch score (clip-level classification).
    public func topClasses(_ analysis: PatchAnalysis, k: Int) -> [ClassScore] { topClasses(meanScores: analysis.meanScores, k: k) }

    /// The `k` classes with the highest of `meanScores`, one per class.
    public func topClasses(meanScores mean: [Float], k: Int) -> [ClassScore] {
        mean.indices.sorted { mean[$0] > mean[$1] }.prefix(max(k, 0)).map {
            ClassScore(index: $0, label: labels.names[$0], score: mean[$0])
        }
    }
}
