import ImageIO
import Models
import NetCore

/// Image features from a layer of a catalog image network (MATLAB's `activations`): the layer's output for the
/// image, pooled over its spatial positions when it has any. By default a classifier's pooled features, the input
/// of its classifier (its last layer with weights): ResNet-50's 2048, MobileNetV2's 1280, SqueezeNet's 512; an
/// embedding network's output (OpenL3's image embeddings).
public final class ImageFeatures: Sendable {
    /// The network up to ``layer`` (BatchNorm and activations folded), whose output it is.
    public let network: Network
    public let preprocessing: ImagePreprocessing
    /// The node whose output the features are.
    public let layer: String
    /// Features per image.
    public let featureCount: Int

    /// The image networks features can be read from: the classifiers and the image embedding networks.
    public static var available: [String] { Networks.built.filter { $0.imagePreprocessing != nil }.map(\.name) }

    /// The image network `name` with its weights from `store` (or `weightsPath`), computing only up to `layer`: any node
    /// of the network as built (`audionet info NAME` lists them, BatchNorm and activations included); by default a
    /// classifier's input, or an embedding network's output.
    public convenience init(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil, layer: String? = nil) throws {
        let descriptor = try Networks.buildable(name)
        guard descriptor.imagePreprocessing != nil, let load = descriptor.load else { throw AudioNetError.notImplemented(name, available: Self.available) }
        try self.init(name, network: try load(name, store, weightsPath), layer: layer)
    }

    /// The features of `built`, the image network `name` as its descriptor builds it (BatchNorm unfolded) with weights of
    /// one's own (a fine-tuned model's), read at `layer` as ``init(_:store:weightsPath:layer:)`` reads it.
    public init(_ name: String, network built: Network, layer: String? = nil) throws {
        let descriptor = try Networks.buildable(name)
        guard let preprocessing = descriptor.imagePreprocessing else { throw AudioNetError.notImplemented(name, available: Self.available) }
        self.layer = layer ?? (descriptor.imageClassifier == nil ? built.outputName : Self.classifierInput(of: built.optimized()))
        network = try built.truncated(at: self.layer).optimized()
        self.preprocessing = preprocessing
        featureCount = network.shapes[self.layer]?.last ?? 0
    }

    /// The input of the network's last layer with weights, before the importers' layout steps (nodes named `…#…`,
    /// such as the flattening a Caffe inner product reads).
    static func classifierInput(of network: Network) -> String {
        var name = network.nodes.last { $0.layer.parameterCount > 0 }?.inputs.first ?? network.outputName
        while name.contains("#"), let node = network.nodes.first(where: { $0.name == name }), node.inputs.count == 1 { name = node.inputs[0] }
        return name
    }

    /// How a layer's output over spatial positions becomes one vector per image.
    public enum Pooling: String, Sendable, CaseIterable {
        /// The layer's whole output (`[H, W, C]` for a feature map).
        case none
        /// The mean over positions (MATLAB's `activations` followed by `mean`; the transfer-learning default).
        case avg
        /// The largest value over positions.
        case max
    }

    /// The layer's output for a decoded image (the whole image resized to the network's input, as `image classify`
    /// does), pooled over its positions: `[C]`, or the layer's own shape with ``Pooling/none``.
    public func features(of image: RGBImage, pooling: Pooling) throws -> Tensor {
        let output = try network.run(preprocessing.input(for: image, centerCrop: preprocessing.centerCrop), outputs: [layer])[layer]!
        let shape = Array(output.shape.dropFirst())
        guard pooling != .none else { return output.reshaped(shape) }
        let positions = output.count / max(featureCount, 1), values = output.scalars
        return Tensor(shape: [featureCount], scalars: (0..<featureCount).map { c in
            let column = stride(from: c, to: positions * featureCount, by: featureCount).lazy.map { values[$0] }
            return pooling == .max ? column.max() ?? 0 : column.reduce(0, +) / Float(positions)
        })
    }

    /// The features of a decoded image averaged over positions.
    public func features(of image: RGBImage) throws -> [Float] { try features(of: image, pooling: .avg).scalars }

    /// The features of the image at `path` (PNG, JPEG, BMP).
    public func features(file path: String) throws -> [Float] { try features(of: RGBImage(path: path)) }
}
