import ArgumentParser
import AudioNet
import Foundation

extension ImageCommand {
    /// `audionet image embed IMAGE|FOLDER… --model NAME [--layer NAME] [--pool none|avg|max] (--output X.npy | --output-dir D)`.
    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write image features from any layer of an image network as a float32 .npy file, one row per image.",
            discussion: """
            MATLAB's `activations`. By default the input of the network's classifier (its last layer with weights), \
            averaged over positions: resnet50 [N, 2048], mobilenetv2 [N, 1280]. --layer takes any layer `audionet info \
            MODEL` lists; --pool none keeps a feature map whole ([N, H, W, C]). Images are resized whole to the \
            network's input, as `image classify` does. With --output the rows follow the inputs, so an image that \
            cannot be read fails the run; with --output-dir each image's features are NAME.MODEL.npy there ([C], or \
            [H, W, C] with --pool none) and an unreadable image is reported and skipped.
            """
        )

        @Argument(help: "Image files (PNG, JPEG, BMP…) or folders.")
        var images: [String] = []

        @OptionGroup var batch: BatchOptions

        @Option(help: "Network: \(ImageFeatures.available.joined(separator: ", ")).", completion: .list(ImageFeatures.available))
        var model: String = MobileNetV2.descriptor.name

        @Option(help: "Layer whose output is written (default: the classifier's input).")
        var layer: String?

        @Option(help: "avg or max over spatial positions, or none (the whole feature map).")
        var pool: ImageFeatures.Pooling = .avg

        @Option(help: "Output .npy path: one row per image.")
        var output: String?

        @Option(help: "Weights file (default: looked up in the weight store).")
        var weights: String?

        func validate() throws {
            guard (output == nil) != (batch.outputDirectory == nil) else { throw CommandError("give --output (one file of rows) or --output-dir") }
        }

        func run() throws {
            var options = batch
            if output != nil { options.strict = true }  // rows must follow the inputs
            let inputs = try Batch(images, options: options, extensions: Batch.imageExtensions, kind: "images")
            try OutputFile.checkDistinct(outputs: [output].compactMap { $0 }, inputs: inputs.inputs.map(\.path) + [weights].compactMap { $0 })
            let extractor = try ImageFeatures(model, weightsPath: weights, layer: layer)
            var rows: [Tensor] = []
            try inputs.run(suffix: ".\(model).npy") { input, destination in
                let decoded = try RGBImage(path: input.path)
                if let warning = decoded.warning { FileHandle.standardError.write(Data("warning: '\(input.path)': \(warning)\n".utf8)) }
                let features = try extractor.features(of: decoded, pooling: pool)
                if let destination {
                    try OutputFile.checkDistinct(outputs: [destination], inputs: [input.path])
                    try NPY.write(NPYArray(features), path: destination)
                } else {
                    rows.append(features)
                }
                return 0
            }
            guard let output else { return }
            let shape = [rows.count] + (rows.first?.shape ?? [extractor.featureCount])
            try NPY.write(NPYArray(Tensor(shape: shape, scalars: rows.flatMap(\.scalars))), path: output)
            FileHandle.standardError.write(Data("\(extractor.layer): \(shape.map(String.init).joined(separator: "×")) → \(output)\n".utf8))
        }
    }
}

extension ImageFeatures.Pooling: ExpressibleByArgument {}
