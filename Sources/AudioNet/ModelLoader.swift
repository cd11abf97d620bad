import Formats
import Models
import NetCore

/// Builds catalog networks by name, for `audionet run` and `audionet info`.
public enum ModelLoader {
    /// Networks the engine can build today (a subset of ``Catalog/all``).
    public static let buildable = ["yamnet", "vggish", "openl3"] + CREPE.Capacity.allCases.map(\.modelName) + ImageClassifier.available

    /// `openl3` alone means OpenL3's default configuration, mel256-music-6144.
    static func openL3(_ name: String) -> OpenL3.Configuration? {
        OpenL3.Configuration(modelName: name == "openl3" ? "openl3-mel256-music-6144" : name)
    }

    static func checkName(_ name: String) throws {
        if openL3(name) != nil { return }
        guard Catalog.entry(named: name) != nil else {
            throw AudioNetError.unknownModel(name, known: Catalog.all.map(\.name))
        }
        guard buildable.contains(name) else { throw AudioNetError.notImplemented(name, available: buildable) }
    }

    static func crepeCapacity(_ name: String) -> CREPE.Capacity? {
        CREPE.Capacity.allCases.first { $0.modelName == name }
    }

    /// The architecture with placeholder weights and every layer in place (BatchNorm unfolded), for layer tables.
    public static func architecture(_ name: String) throws -> Network {
        try checkName(name)
        if let configuration = openL3(name) { return try OpenL3.network(configuration, weights: nil) }
        if let capacity = crepeCapacity(name) { return try CREPE.network(capacity, weights: nil) }
        if name == "vggish" { return try VGGish.network(weights: nil) }
        if name == "efficientnet-lite0" { return try EfficientNetLite0.network(weights: nil) }
        if name == "mobilenetv2" { return try ImageClassifier.load(name).network }
        if let entry = TorchvisionNetworks.entries[name] { return try entry.build(nil) }
        return try YAMNet.network(weights: nil)
    }

    /// The network with its real weights, BatchNorm and activations folded, ready to run.
    public static func network(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil) throws -> Network {
        try checkName(name)
        if let configuration = openL3(name) { return try OpenL3Embedder.load(configuration, store: store, weightsPath: weightsPath).network }
        if let capacity = crepeCapacity(name) {
            return try PitchEstimator.crepe(capacity, store: store, weightsPath: weightsPath).network
        }
        if name == "vggish" { return try VGGishEmbedder.load(store: store, weightsPath: weightsPath).network }
        if ImageClassifier.available.contains(name) { return try ImageClassifier.load(name, store: store, weightsPath: weightsPath).network }
        return try SoundClassifier.yamnet(store: store, weightsPath: weightsPath).network
    }
}
