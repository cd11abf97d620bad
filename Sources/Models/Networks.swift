/// The registry: every network AudioNet knows, each declared once in its own file. Adding a network is one
/// new file with its ``NetworkDescriptor`` and one line here (the DocC article "Adding a network").
public enum Networks {
    /// Every network in catalog order: audio first, then MATLAB's image networks (DESIGN.md, "Model facts").
    public static let all: [NetworkDescriptor] = [
        YAMNet.descriptor,
    ] + CREPE.descriptors + [
        VGGish.descriptor,
        OpenL3.descriptor,
        SqueezeNet.descriptor,
        GoogLeNet.descriptor,
        NotYetBuilt.inceptionV3,
        DenseNet201.descriptor,
        MobileNetV2.descriptor,
        ResNet.resnet18,
        ResNet.resnet50,
        ResNet.resnet101,
        NotYetBuilt.xception,
        NotYetBuilt.inceptionResNetV2,
        ShuffleNetV2.descriptor,
        NotYetBuilt.nasNetMobile,
        NotYetBuilt.nasNetLarge,
        NotYetBuilt.darknet19,
        NotYetBuilt.darknet53,
        EfficientNetB0.descriptor,
        EfficientNetLite0.descriptor,
        VGG.alexnet,
        VGG.vgg16,
        VGG.vgg19,
    ]

    /// The network called `name` (or one of its aliases).
    public static func named(_ name: String) -> NetworkDescriptor? {
        all.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// The networks AudioNet builds.
    public static var built: [NetworkDescriptor] { all.filter { $0.load != nil } }

    /// The weight manifest: every file some network needs or can use, once, in catalog order.
    public static let files: [WeightFile] = {
        var seen = Set<String>()
        return all.flatMap { $0.files + $0.optionalFiles }.filter { seen.insert($0.path).inserted }
    }()

    /// A manifest file by its path (`yamnet/yamnet.tflite`).
    public static func file(_ path: String) -> WeightFile? { filesByPath[path] }
    static let filesByPath = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
}
