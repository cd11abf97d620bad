import ImageIO
import Models
import NetCore

/// Image features from a layer of a catalog image network (MATLAB's `activations`): the layer's output for the
/// image, averaged over its spatial positions when it has any. By default the network's pooled features, the input
/// of its classifier (its last layer with weights): ResNet-50's 2048, MobileNetV2's 1280, SqueezeNet's 512.
public final class ImageFeatures: Sendable {
    public let classifier: ImageClassifier
    /// The node whose output the features are.
    public let layer: String
    /// Features per image.
    public let featureCount: Int

    /// The image network `name` with its weights from `store` (or `weightsPath`), read at `layer` (default: the
    /// classifier's input).
    public init(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil, layer: String? = nil) throws {
        classifier = try ImageClassifier.load(name, store: store, weightsPath: weightsPath)
        let network = classifier.network
        self.layer = layer ?? Self.classifierInput(of: network)
        guard let shape = network.shapes[self.layer] else { throw NetworkError.unknownLayer(self.layer, valid: network.nodeNames) }
        featureCount = shape.last ?? 0
    }

    /// The input of the network's last layer with weights.
    static func classifierInput(of network: Network) -> String {
        network.nodes.last { $0.layer.parameterCount > 0 }?.inputs.first ?? network.outputName
    }

    /// The features of a decoded image (the whole image resized to the network's input, as `image classify` does).
    public func features(of image: RGBImage) throws -> [Float] {
        let output = try classifier.network.run(classifier.input(for: image), outputs: [layer])[layer]!
        let positions = output.count / max(featureCount, 1)
        return (0..<featureCount).map { c in (0..<positions).reduce(Float(0)) { $0 + output.scalars[$1 * featureCount + c] } / Float(positions) }
    }

    /// The features of the image at `path` (PNG, JPEG, BMP).
    public func features(file path: String) throws -> [Float] { try features(of: RGBImage(path: path)) }
}
