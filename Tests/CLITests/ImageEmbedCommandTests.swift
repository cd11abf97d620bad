import Formats
import Foundation
import NetCore
import TestSupport
import Testing

/// `audionet image embed`: features from any layer, pooled or whole.
@Suite struct ImageEmbedCommandTests {
    let folder = TestSupport.temporaryDirectory()

    /// The shared images beside the weights mirror.
    func images(_ names: String...) throws -> [String]? {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("$AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return nil
        }
        return names.map { URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images/\($0)").path }
    }

    /// Runs `image embed` and reads what it wrote.
    func embed(_ arguments: [String]) throws -> Tensor {
        let output = folder.appendingPathComponent("\(UUID().uuidString).npy").path
        let result = try TestSupport.run(["image", "embed"] + arguments + ["--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        return try NPY.read(path: output).tensor
    }

    /// By default one row per image of the classifier's input (MobileNetV2: 1280, the average of Conv_1's map); the
    /// map itself with --pool none, whose mean and maximum over positions are what --pool avg and max write.
    @Test func poolingAFeatureMapIsItsMeanOrMaximumOverPositions() throws {
        guard let images = try images("bird.bmp", "cat.bmp") else { return }
        let pooled = try embed(images)
        #expect(pooled.shape == [2, 1280])
        let map = try embed(images + ["--layer", "Conv_1", "--pool", "none"])
        #expect(map.shape == [2, 7, 7, 1280])
        let maximum = try embed(images + ["--layer", "Conv_1", "--pool", "max"])
        let positions = 49, channels = 1280
        for image in 0..<2 {
            let values = Array(map.scalars[(image * positions * channels)..<((image + 1) * positions * channels)])
            let mean = (0..<channels).map { c in (0..<positions).reduce(Float(0)) { $0 + values[$1 * channels + c] } / Float(positions) }
            let largest = (0..<channels).map { c in (0..<positions).map { values[$0 * channels + c] }.max()! }
            #expect(TestSupport.maxAbsDifference(mean, Array(pooled.scalars[(image * channels)..<((image + 1) * channels)])) < 1e-5)
            #expect(TestSupport.maxAbsDifference(largest, Array(maximum.scalars[(image * channels)..<((image + 1) * channels)])) == 0)
        }
    }

    /// A layer that folding merges away (Darknet-19's batch normalisation before its leaky ReLU, with the generated
    /// fixture's weights) can still be asked for: the leaky ReLU of its output is the next layer's.
    @Test func aLayerBeforeFoldingCanBeAskedFor() throws {
        guard let images = try images("bird.bmp"), let weights = TestSupport.generatedFixture("darknet/darknet19.weights") else { return }
        let common = images + ["--model", "darknet19", "--weights", weights, "--pool", "none"]
        let normalized = try embed(common + ["--layer", "bn5"]), activated = try embed(common + ["--layer", "leaky5"])
        #expect(normalized.shape == [1, 64, 64, 64] && normalized.shape == activated.shape && normalized.scalars.contains { $0 < 0 })
        let scale = activated.scalars.map(abs).max()!
        #expect(TestSupport.maxAbsDifference(normalized.scalars.map { $0 > 0 ? $0 : 0.1 * $0 }, activated.scalars) <= 1e-5 * scale)
    }

    /// An unknown layer lists the valid ones on one line; the output may not overwrite an image.
    @Test func badLayersAndOutputsAreOneLineErrors() throws {
        guard let images = try images("bird.bmp") else { return }
        let unknown = try TestSupport.run(["image", "embed"] + images + ["--layer", "nope", "--output", folder.appendingPathComponent("x.npy").path])
        #expect(unknown.status == 1 && unknown.stderr.contains("no layer named 'nope'; valid names: input, Conv") && unknown.stderr.split(separator: "\n").count == 1,
                "\(unknown.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: images[0]))
        let overwrite = try TestSupport.run(["image", "embed"] + images + ["--output", images[0]])
        #expect(overwrite.status == 1 && overwrite.stderr.contains("refusing to overwrite an input"), "\(overwrite.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: images[0])) == before)
    }
}

extension ImageEmbedCommandTests {
    /// OpenL3's image network writes its embeddings (the network's output, not a classifier's input): [N, 512] or
    /// [N, 8192]; asked to classify, it says it has no classes.
    @Test func openL3ImageEmbeddingsAreTheNetworksOutput() throws {
        guard let images = try images("bird.bmp", "cat.bmp"), let weights = TestSupport.generatedFixture("keras/openl3-image.h5") else { return }
        for size in [512, 8192] {
            let embeddings = try embed(images + ["--model", "openl3-image-mel256-env-\(size)", "--weights", weights])
            #expect(embeddings.shape == [2, size])
        }
        let classify = try TestSupport.run(["image", "classify", images[0], "--model", "openl3-image"])
        #expect(classify.status == 1 && classify.stderr.contains("image embedding network, without classes: use `audionet image embed`"), "\(classify.stderr)")
    }
}
