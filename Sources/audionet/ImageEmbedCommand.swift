import ArgumentParser
import AudioNet
import Foundation

extension ImageCommand {
    /// `audionet image embed IMAGE… --model NAME [--layer NAME] [--pool none|avg|max] --output X.npy`.
    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write image features from any layer of an image network as a float32 .npy file, one row per image.",
            discussion: """
            MATLAB's `activations`. By default the input of the network's classifier (its last layer with weights), \
            averaged over positions: resnet50 [N, 2048], mobilenetv2 [N, 1280]. --layer takes any layer `audionet info \
            MODEL` lists; --pool none keeps a feature map whole ([N, H, W, C]). Images are resized whole to the \
            network's input, as `image classify` does.
            """
        )

        @Argument(help: "Image files (PNG, JPEG, BMP).")
        var images: [String]

        @Option(help: "Network: \(ImageFeatures.available.joined(separator: ", ")).")
        var model: String = MobileNetV2.descriptor.name

        @Option(help: "Layer whose output is written (default: the classifier's input).")
        var layer: String?

        @Option(help: "avg or max over spatial positions, or none (the whole feature map).")
        var pool: ImageFeatures.Pooling = .avg

        @Option(help: "Output .npy path.")
        var output: String

        @Option(help: "Weights file (default: looked up in the weight store).")
        var weights: String?

        func run() throws {
            try OutputFile.checkDistinct(outputs: [output], inputs: images + [weights].compactMap { $0 })
            let extractor = try ImageFeatures(model, weightsPath: weights, layer: layer)
            var rows: [Tensor] = []
            for image in images {
                let decoded = try RGBImage(path: image)
                if let warning = decoded.warning { FileHandle.standardError.write(Data("warning: '\(image)': \(warning)\n".utf8)) }
                rows.append(try extractor.features(of: decoded, pooling: pool))
            }
            let shape = [rows.count] + (rows.first?.shape ?? [extractor.featureCount])
            try NPY.write(NPYArray(Tensor(shape: shape, scalars: rows.flatMap(\.scalars))), path: output)
            FileHandle.standardError.write(Data("\(extractor.layer): \(shape.map(String.init).joined(separator: "×")) → \(output)\n".utf8))
        }
    }
}

extension ImageFeatures.Pooling: ExpressibleByArgument {}
