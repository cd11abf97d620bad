import AudioIO
import DSP
import Formats
import Models
import NetCore

/// Audio embeddings with OpenL3: 1 s windows at 48 kHz every `hopSeconds` (centred by default), the front end
/// of the configuration, then the audio subnetwork.
public final class OpenL3Embedder: Sendable {
    public let configuration: OpenL3.Configuration
    public let network: Network
    public let frontEnd: OpenL3FrontEnd
    static let batchSize = 8

    /// Prepares `network` (BatchNorm and ReLU folded) at `precision`; ``Precision/float32`` is the exact path.
    public init(configuration: OpenL3.Configuration, network: Network, precision: Precision = .float32) {
        self.configuration = configuration
        self.network = network.prepared(for: precision)
        frontEnd = OpenL3FrontEnd(configuration.representation)
    }

    /// The configuration's weights from `store` (or `weightsPath`): torchopenl3's `.pth.tar`, or else the
    /// official Keras `.h5` (a `weightsPath` ending in `.h5` is read as Keras); run at `precision`.
    public static func load(_ configuration: OpenL3.Configuration, store: WeightStore = .fromEnvironment(),
                            weightsPath: String? = nil, precision: Precision = .float32) throws -> OpenL3Embedder {
        let weights = try OpenL3.weights(configuration, store: store, weightsPath: weightsPath)
        return OpenL3Embedder(configuration: configuration, network: try OpenL3.network(configuration, weights: weights),
                              precision: precision)
    }

    /// Embeddings `[N, size]` of spectrograms `[N, bins, frames]`.
    public func embed(spectrograms: Tensor) throws -> Tensor {
        let output = network.outputName
        return try BatchRunner(network: network, batchSize: Self.batchSize, batchesSideBySide: false).run(examples: spectrograms, outputs: [output])[output]!
    }

    /// Embeddings of an audio file (resampled to 48 kHz mono) with each window's time.
    public func embed(file path: String, hopSeconds: Double = 0.1, center: Bool = true) throws -> (embeddings: Tensor, times: [Double]) {
        let audio = try AudioFileReader.readMono(path: path, sampleRate: OpenL3FrontEnd.sampleRate)
        let (spectrograms, times) = frontEnd.spectrograms(samples: audio.samples, hopSeconds: hopSeconds, center: center)
        return (try embed(spectrograms: spectrograms), times)
    }
}
