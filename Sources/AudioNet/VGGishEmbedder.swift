import AudioIO
import DSP
import Formats
import Models
import NetCore

/// Audio embeddings with VGGish: the exact `vggish` front end (0.96 s examples, no overlap), the VGG body,
/// and optionally AudioSet's PCA/quantization postprocessing.
public final class VGGishEmbedder: Sendable {
    public let network: Network
    public let postprocessor: VGGishPostprocessor?
    public let frontEnd = LogMelFrontEnd.vggish
    static let batchSize = 16

    /// Prepares `network` (ReLU folded) at `precision`; ``Precision/float32`` is the exact path.
    public init(network: Network, postprocessor: VGGishPostprocessor?, precision: Precision = .float32) {
        self.network = network.prepared(for: precision)
        self.postprocessor = postprocessor
    }

    /// VGGish with torchvggish's state_dict (`vggish/vggish-10086976.pth`) and, when `postprocess` is set,
    /// the PCA parameters (`vggish/vggish_pca_params-970ea276.pth` or the official `.npz`); run at `precision`.
    public static func load(store: WeightStore = .fromEnvironment(), weightsPath: String? = nil, postprocess: Bool = false,
                            pcaPath: String? = nil, precision: Precision = .float32) throws -> VGGishEmbedder {
        let pca = postprocess ? try VGGishPostprocessor(path: try store.locate(VGGish.pcaFile, explicit: pcaPath)) : nil
        return VGGishEmbedder(network: try VGGish.network(store: store, weightsPath: weightsPath), postprocessor: pca, precision: precision)
    }

    /// Embeddings `[N, 128]` of examples `[N, 96, 64]` (postprocessed when a postprocessor is set).
    public func embed(examples: Tensor) throws -> Tensor {
        let output = network.outputName
        let embeddings = try BatchRunner(network: network, batchSize: Self.batchSize).run(examples: examples, outputs: [output])[output]!
        return postprocessor?.apply(embeddings) ?? embeddings
    }

    /// Embeddings of an audio file, one row per 0.96 s example, with each example's start time.
    public func embed(file path: String) throws -> (embeddings: Tensor, times: [Double]) {
        let audio = try AudioFileReader.readMono(path: path, sampleRate: frontEnd.sampleRate)
        let examples = frontEnd.logMelPatches(audio.samples)
        let hop = Double(frontEnd.patchHop * frontEnd.hopLength) / Double(frontEnd.sampleRate)
        return (try embed(examples: examples), (0..<examples.shape[0]).map { Double($0) * hop })
    }
}
