import Synchronization

/// The registry: every network AudioNet knows, each declared once in its own file. Adding a network is one
/// new file with its ``NetworkDescriptor`` and one line in ``builtIn`` (the DocC article "Adding a network");
/// a program that uses AudioNet as a library can ``register(_:)`` its own at run time.
public enum Networks {
    /// Every network: the built-in catalog, then those registered at run time.
    public static var all: [NetworkDescriptor] { builtIn + registered.withLock { $0 } }

    /// Adds `descriptor` for this process (`run`, `info`, the catalog and the manifest see it), replacing a
    /// registered one of the same name; a built-in name cannot be taken.
    public static func register(_ descriptor: NetworkDescriptor) throws {
        guard !builtIn.contains(where: { $0.name == descriptor.name || $0.aliases.contains(descriptor.name) }) else {
            throw RegistryError.nameTaken(descriptor.name)
        }
        registered.withLock { list in
            list.removeAll { $0.name == descriptor.name }
            list.append(descriptor)
        }
    }

    private static let registered = Mutex<[NetworkDescriptor]>([])

    /// The built-in networks in catalog order: audio first, then MATLAB's image networks (DESIGN.md, "Model facts").
    public static let builtIn: [NetworkDescriptor] = [
        YAMNet.descriptor,
    ] + CREPE.descriptors + [
        VGGish.descriptor,
        OpenL3.descriptor,
        OpenL3Image.descriptor,
        SqueezeNet.descriptor,
        GoogLeNet.descriptor,
        GoogLeNet.places365,
        InceptionV3.descriptor,
        DenseNet201.descriptor,
        MobileNetV2.descriptor,
        ResNet.resnet18,
        ResNet.resnet50,
        ResNet.resnet101,
        Xception.descriptor,
        InceptionResNetV2.descriptor,
        ShuffleNet.descriptor,
        NASNet.mobileDescriptor,
        NASNet.largeDescriptor,
        Darknet.darknet19,
        Darknet.darknet53,
        EfficientNetB0.descriptor,
        EfficientNetLite0.descriptor,
        AlexNet.descriptor,
        VGG.vgg16,
        VGG.vgg19,
        // torchvision's variants of networks MATLAB defines otherwise.
        SqueezeNet.v1_0,
        GoogLeNetTorchvision.descriptor,
        ShuffleNetV2.descriptor,
        VGG.alexnetTorchvision,
    ]

    /// The network called `name` (or one of its aliases).
    public static func named(_ name: String) -> NetworkDescriptor? {
        all.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// The networks AudioNet builds.
    public static var built: [NetworkDescriptor] { all.filter { $0.load != nil } }

    /// The weight manifest: every file some network needs or can use, once, in catalog order.
    public static var files: [WeightFile] {
        var seen = Set<String>()
        return all.flatMap { $0.files + $0.optionalFiles }.filter { seen.insert($0.path).inserted }
    }

    /// A manifest file by its path (`yamnet/yamnet.tflite`).
    public static func file(_ path: String) -> WeightFile? {
        all.lazy.flatMap { $0.files + $0.optionalFiles }.first { $0.path == path }
    }
}

/// Why a network could not be registered.
public enum RegistryError: Error, CustomStringConvertible, Equatable {
    case nameTaken(String)

    public var description: String {
        switch self {
        case .nameTaken(let name): return "a built-in network is already called '\(name)'"
        }
    }
}
