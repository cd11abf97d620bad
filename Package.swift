// swift-tools-version:6.0
import PackageDescription

/// A system library found through pkg-config, with the Debian package that provides it.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "AudioNet",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "AudioNet", targets: ["AudioNet"]),
        .executable(name: "audionet", targets: ["audionet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        systemLibrary("CSndFile", pkgConfig: "sndfile", apt: "libsndfile1-dev"),
        systemLibrary("CFFTW", pkgConfig: "fftw3", apt: "libfftw3-dev"),
        systemLibrary("CBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
        systemLibrary("CSampleRate", pkgConfig: "samplerate", apt: "libsamplerate0-dev"),
        systemLibrary("CHDF5", pkgConfig: "hdf5", apt: "libhdf5-dev"),
        systemLibrary("CSTB", pkgConfig: "stb", apt: "libstb-dev"),
        systemLibrary("CJPEG", pkgConfig: "libjpeg", apt: "libjpeg-dev"),
        systemLibrary("CCairo", pkgConfig: "cairo", apt: "libcairo2-dev"),

        // The foundation: Tensor, Parallel, shared pointers, the allocator policy and the one CPU-feature API.
        .target(name: "CBase"),
        .target(name: "Base", dependencies: ["CBase"]),
        .target(name: "Platform"),
        .target(name: "CAudioKernels", dependencies: ["CBase"]),
        .target(name: "AudioIO", dependencies: ["CSndFile", "CSampleRate", "CAudioKernels", "Base", "Platform"]),
        .target(name: "ImageIO", dependencies: ["CSTB", "CJPEG", "Platform"]),
        // Plots (PNG and SVG through cairo): a canvas, axes, heat maps, colour scales.
        .target(name: "Plots", dependencies: ["CCairo", "Platform"]),
        .target(name: "DSP", dependencies: ["CFFTW", "CBLAS", "CAudioKernels", "Base"]),
        .target(name: "CKernels", dependencies: ["CBase"]),
        .target(name: "NetCore", dependencies: ["Base", "CBLAS", "CFFTW", "CKernels"]),
        // Swift code generated from onnx.proto and caffe.proto (`make protobuf-schemas`), nothing else.
        .target(name: "ProtobufSchemas", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "Formats", dependencies: [
            "NetCore", "Platform", "CHDF5", "ProtobufSchemas", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Weight files: their descriptions, the store that finds them, fetching and SHA-256 verification.
        .target(name: "WeightFiles", dependencies: [
            "Formats", "Platform",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .target(name: "Models", dependencies: ["NetCore", "Formats", "DSP", "Platform", "WeightFiles"]),
        .target(name: "AudioNet", dependencies: ["AudioIO", "ImageIO", "DSP", "NetCore", "Formats", "Models", "Platform", "Plots", "WeightFiles"]),
        .executableTarget(name: "audionet", dependencies: [
            "AudioNet",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["BuildVersion"]),
        // `buildCommit` for `audionet --version`.
        .plugin(name: "BuildVersion", capability: .buildTool()),
        .executableTarget(name: "audionet-bench", dependencies: ["AudioNet", "CBLAS"], path: "Benchmarks/audionet-bench"),

        .target(name: "TestSupport", dependencies: ["NetCore", "Formats", "WeightFiles"], path: "Tests/TestSupport"),
        .testTarget(name: "AudioIOTests", dependencies: ["AudioIO", "DSP", "Formats", "TestSupport"]),
        .testTarget(name: "DSPTests", dependencies: ["Base", "DSP", "AudioIO", "AudioNet", "Formats", "Models", "NetCore", "TestSupport"]),
        .testTarget(name: "NetCoreTests", dependencies: ["Base", "NetCore", "CKernels", "Formats", "TestSupport"]),
        .testTarget(name: "YAMNetTests", dependencies: ["AudioNet", "Models", "Formats", "NetCore", "TestSupport"]),
        .testTarget(name: "CREPETests", dependencies: ["AudioNet", "AudioIO", "Models", "Formats", "DSP", "NetCore", "TestSupport"]),
        .testTarget(name: "VGGishTests", dependencies: ["AudioNet", "AudioIO", "Models", "Formats", "DSP", "NetCore", "TestSupport"]),
        .testTarget(name: "ImageTests", dependencies: ["AudioNet", "ImageIO", "Models", "Formats", "NetCore", "TestSupport", "WeightFiles"]),
        .testTarget(name: "OpenL3Tests", dependencies: ["AudioNet", "Models", "Formats", "DSP", "AudioIO", "NetCore", "TestSupport"]),
        .testTarget(name: "FormatsTests", dependencies: [
            "Formats", "NetCore", "TestSupport", "ProtobufSchemas", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["Formats", "AudioIO", "Models", "NetCore", "TestSupport"]),
        .testTarget(name: "LibraryUsageTests", dependencies: ["AudioNet"]),
        .testTarget(name: "TransferLearningTests", dependencies: ["AudioNet", "Formats", "TestSupport"]),
        .testTarget(name: "PlotTests", dependencies: ["AudioNet", "TestSupport"]),
        .testTarget(name: "LayeringTests"),
    ]
)
