import Foundation
import Models
import NetCore
import Plots

/// One network's prediction time on this machine beside its published ImageNet accuracy (`audionet compare`).
public struct NetworkTiming: Sendable {
    public let name: String
    public let parametersMillions: Double
    /// Published top-1 accuracy in percent and its source (``NetworkDescriptor/publishedTop1``).
    public let top1: Double?
    public let source: String?
    /// Median seconds per batch, by batch size.
    public let seconds: [Int: Double]

    public init(name: String, parametersMillions: Double, top1: Double?, source: String?, seconds: [Int: Double]) {
        self.name = name
        self.parametersMillions = parametersMillions
        self.top1 = top1
        self.source = source
        self.seconds = seconds
    }
}

/// MATLAB's pretrained-network chart measured live: each image classifier's prediction time here against its
/// published accuracy.
public enum NetworkComparison {
    /// The image classifiers the registry builds.
    public static var candidates: [String] {
        Networks.built.filter { $0.task == .imageClassification }.map(\.name)
    }

    /// Times `name` at each of `batchSizes`: one warm-up run, then the median of `runs`. The network is built from its
    /// layer table with placeholder weights, which take the time the real ones take (no weight file needed), or from
    /// its weight file where that alone holds the architecture (ShuffleNet's ONNX graph).
    public static func time(_ name: String, batchSizes: [Int], runs: Int, store: WeightStore = .fromEnvironment()) throws -> NetworkTiming {
        guard let descriptor = Networks.named(name), descriptor.task == .imageClassification, let load = descriptor.load else {
            throw AudioNetError.invalidOption("'\(name)' is not an image classifier AudioNet builds (choose from: \(candidates.joined(separator: ", ")))")
        }
        let network = try (descriptor.architecture?(name, store) ?? load(name, store, nil)).prepared(for: .float32)
        var seconds: [Int: Double] = [:]
        for batch in batchSizes {
            var generator = SystemRandomNumberGenerator()
            let count = batch * network.inputShape.reduce(1, *)
            let input = Tensor(shape: [batch] + network.inputShape, scalars: (0..<count).map { _ in Float.random(in: -1...1, using: &generator) })
            _ = try network.run(input)
            let times = try (0..<max(runs, 1)).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try network.run(input)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            seconds[batch] = times.sorted()[times.count / 2]
        }
        return NetworkTiming(name: name, parametersMillions: descriptor.parametersMillions, top1: descriptor.publishedTop1?.percent,
                             source: descriptor.publishedTop1?.source, seconds: seconds)
    }

    /// The chart: time per image at `batchSize` relative to the fastest network (log axis) against published top-1
    /// accuracy, each network a labelled disc whose area is proportional to its parameters.
    public static func plot(_ timings: [NetworkTiming], batchSize: Int, title: String, format: Canvas.Format) -> Canvas {
        let canvas = Canvas(width: 1000, height: 640, format: format)
        let drawn = timings.filter { $0.top1 != nil && $0.seconds[batchSize] != nil }
        let fastest = drawn.compactMap { $0.seconds[batchSize] }.min() ?? 1
        let relative = drawn.map { $0.seconds[batchSize]! / fastest }
        let accuracies = drawn.map { $0.top1! }
        let x = Scale(0.8, max(2, (relative.max() ?? 1) * 1.3), logarithmic: true)
        let y = Scale(((accuracies.min() ?? 50) - 3).rounded(.down), ((accuracies.max() ?? 80) + 3).rounded(.up))
        let axes = Axes(frame: Rect(x: 80, y: 50, width: 880, height: 520), x: x, y: y)
        let largest = drawn.map(\.parametersMillions).max() ?? 1
        for (index, timing) in drawn.enumerated().sorted(by: { $0.element.parametersMillions > $1.element.parametersMillions }) {
            let point = axes.point(relative[index], accuracies[index])
            // Area ∝ parameters: the largest network's disc has a radius of 28 pixels.
            let radius = max(3, 28 * (timing.parametersMillions / largest).squareRoot())
            canvas.dot(point, radius: radius, Colormap.viridis.color(at: Double(index) / Double(max(drawn.count - 1, 1))), alpha: 0.55)
            canvas.text(timing.name, at: (point.x, point.y - radius - 2), size: 11, anchor: TextAnchor(0.5, 1))
        }
        axes.draw(on: canvas, xLabel: "Prediction time relative to the fastest (batch \(batchSize), log scale)", yLabel: "ImageNet top-1 accuracy (%)",
                  title: title)
        return canvas
    }
}
