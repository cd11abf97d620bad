import ArgumentParser
import AudioNet
import Foundation

/// `audionet image classify IMAGE… --model NAME [--top K] [--format table|json] [--crop center]` and `audionet image embed`.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "ImageNet image networks on the same engine.",
        subcommands: [Classify.self, Embed.self]
    )

    enum Crop: String, ExpressibleByArgument { case none, center }

    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Classify PNG, JPEG or BMP images into the ImageNet classes.",
            discussion: """
            By default the whole image is resized (bilinear) to the network's input size; --crop center first takes the \
            central 87.5 % square. A folder is searched for images; with --output-dir each image's classes are \
            NAME.classes.json (or .txt) there.
            """
        )

        @Argument(help: "Image files or folders.")
        var images: [String] = []

        @OptionGroup var batch: BatchOptions

        @Option(help: "Network: \(ImageClassifier.available.joined(separator: ", ")); a model trained on one (.audionet); or a network file (.onnx, .tflite) with --labels.",
                completion: .list(ImageClassifier.available))
        var model: String = MobileNetV2.descriptor.name

        @Option(help: "A network file's class names, one per line.")
        var labels: String?

        @Option(help: ArgumentHelp("A network file's per-channel mean and standard deviation on the 0…1 scale (default: torchvision's).", valueName: "r,g,b"))
        var mean: String?
        @Option(help: ArgumentHelp("See --mean.", valueName: "r,g,b"))
        var std: String?

        @Option(help: "Number of classes to show.")
        var top: Int = 5

        @Option(help: "table or json (one object per image per line).")
        var format: OutputFormat = .table

        @Option(help: "none or center.")
        var crop: Crop = .none

        @Option(help: "float32 (exact) or int8 (convolutions and dense layers on int8 products, activations quantized as they run; faster).")
        var precision: Precision = .float32

        @Option(help: ArgumentHelp("With --precision int8: images, or folders of them, whose activation ranges fix each int8 layer's quantization (static int8: faster, values outside the ranges clamped); repeatable.", valueName: "path"))
        var calibration: [String] = []

        @Option(help: "Weights file (default: looked up in the weight store).")
        var weights: String?

        func validate() throws {
            guard top > 0 else { throw CommandError("--top must be positive") }
            guard calibration.isEmpty || precision == .int8 else { throw CommandError("--calibration is for --precision int8") }
        }

        func run() throws {
            if model.hasSuffix(".audionet") { return try classifyWithTrainedModel() }
            precision.warnIfSlowHere()
            let calibrationImages = try calibrationImages()
            let classifier = try networkFile.map { labels in
                try ImageClassifier.load(networkFile: model, labels: labels, mean: try triple(mean, "--mean") ?? [0.485, 0.456, 0.406],
                                         std: try triple(std, "--std") ?? [0.229, 0.224, 0.225], precision: precision,
                                         calibration: calibrationImages)
            } ?? ImageClassifier.load(model, weightsPath: weights, precision: precision, calibration: calibrationImages)
            try classifyEach { image in
                let decoded = try RGBImage(path: image)
                if let warning = decoded.warning { FileHandle.standardError.write(Data("warning: '\(image)': \(warning)\n".utf8)) }
                return render(image: image, try classifier.classify(decoded, top: top, centerCrop: crop == .center), groups: classifier.groups)
            }
        }

        /// Runs `classify` (an image's result as text) over the inputs: printed, or one file per image under --output-dir.
        func classifyEach(_ classify: (String) throws -> String) throws {
            let inputs = try Batch(images, options: batch, extensions: Batch.imageExtensions, kind: "images")
            try inputs.run(suffix: format == .json ? ".classes.json" : ".classes.txt") { input, destination in
                let text = try classify(input.path)
                if let destination {
                    try OutputFile.checkDistinct(outputs: [destination], inputs: [input.path])
                    try OutputFile.write(text, to: destination)
                } else {
                    print(text, terminator: "")
                }
                return 0
            }
        }

        /// The images of `--calibration`, decoded: each file, and the images in each folder.
        func calibrationImages() throws -> [RGBImage] {
            let paths = try calibration.flatMap { path -> [String] in
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CommandError("--calibration: no such file or folder '\(path)'") }
                guard isFolder.boolValue else { return [path] }
                let files = try Batch.files(in: path, extensions: Batch.imageExtensions)
                guard !files.isEmpty else { throw CommandError("--calibration: no images in the folder '\(path)'") }
                return files.map { (path as NSString).appendingPathComponent($0) }
            }
            return try paths.map { path in
                do { return try RGBImage(path: path) } catch { throw CommandError("--calibration: '\(path)': \(error)") }
            }
        }

        /// The labels of a network file (`.onnx`, `.tflite`), which it needs; nil for a built-in network.
        var networkFile: String? {
            get throws {
                guard ["onnx", "tflite"].contains((model as NSString).pathExtension.lowercased()) else {
                    guard labels == nil, mean == nil, std == nil else { throw CommandError("--labels, --mean and --std are for network files (.onnx, .tflite)") }
                    return nil
                }
                guard let labels else { throw CommandError("\(model) needs --labels FILE (its class names, one per line)") }
                return labels
            }
        }

        /// Three comma-separated numbers, or nil when the option is absent.
        func triple(_ text: String?, _ option: String) throws -> [Float]? {
            guard let text else { return nil }
            let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 3, values.allSatisfy(\.isFinite) else { throw CommandError("\(option) takes three numbers r,g,b, not '\(text)'") }
            return values
        }

        /// Each image's top classes by a model trained on an image backbone's features.
        func classifyWithTrainedModel() throws {
            guard calibration.isEmpty else { throw CommandError("--calibration is for image networks, not a trained model (\(model))") }
            let classifier = try ClipClassifier(contentsOf: model, weightsPath: weights)
            guard classifier.model.layer != nil else { throw CommandError("'\(model)' was trained on \(classifier.model.backbone), an audio network: use `audionet classify`") }
            try classifyEach { image in render(image: image, try classifier.topClasses(file: image, k: top)) }
        }

        /// Each class's index, label and score, and its group (Places365's indoor or outdoor) when the network has them.
        func render(image: String, _ classes: [ClassScore], groups: (title: String, names: [String])? = nil) -> String {
            switch format {
            case .json:
                let predictions = classes.map { score in
                    JSONValue.object([("index", .int(score.index)), ("label", .string(score.label)), ("score", .float(score.score))]
                                     + (groups.map { [($0.title, JSONValue.string($0.names[score.index]))] } ?? []))
                }
                return JSONValue.object([("file", .string(image)), ("model", .string(model)), ("predictions", .array(predictions))]).encoded + "\n"
            case .table, .csv:
                return image + "\n" + tableText(header: ["index", "label", "score"] + [groups?.title].compactMap { $0 }, rows: classes.map { score in
                    [String(score.index), score.label, String(format: "%.4f", score.score)] + [groups?.names[score.index]].compactMap { $0 }
                })
            }
        }
    }
}
