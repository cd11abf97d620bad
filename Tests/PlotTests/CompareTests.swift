import AudioNet
import Foundation
import TestSupport
import Testing

/// `audionet compare`: measured times, the published accuracies, and the chart.
@Suite struct CompareTests {
    /// Every image classifier the registry builds is a candidate: the chart can list them all.
    @Test func everyBuiltImageClassifierIsCompared() {
        let classifiers = Networks.built.filter { $0.task == .imageClassification }.map(\.name)
        #expect(NetworkComparison.candidates == classifiers && classifiers.count >= 20, "\(NetworkComparison.candidates)")
    }

    /// Two networks timed at two batch sizes: finite positive times, the larger batch taking longer, SqueezeNet (0.35 GFLOP)
    /// faster than ResNet-18 (1.8 GFLOP), and the published accuracies attached.
    @Test func timingsAreFiniteAndOrderedAsTheNetworksWork() throws {
        let squeezenet = try NetworkComparison.time("squeezenet", batchSizes: [1, 4], runs: 3)
        let resnet = try NetworkComparison.time("resnet18", batchSizes: [1, 4], runs: 3)
        for timing in [squeezenet, resnet] {
            #expect(timing.seconds.values.allSatisfy { $0.isFinite && $0 > 0 } && timing.seconds[4]! > timing.seconds[1]!, "\(timing)")
        }
        #expect(squeezenet.seconds[1]! < resnet.seconds[1]!)
        #expect(squeezenet.top1 == 58.178 && resnet.top1 == 69.758)
        #expect { try NetworkComparison.time("yamnet", batchSizes: [1], runs: 1) } throws: { "\($0)".contains("not an image classifier") }
    }

    /// The chart puts each network's disc at its relative time and accuracy, and leaves out one without an accuracy.
    @Test func theChartPlacesEachNetworkAtItsTimeAndAccuracy() throws {
        let timings = [NetworkTiming(name: "fast", parametersMillions: 5, top1: 60, source: "a", seconds: [1: 0.01]),
                       NetworkTiming(name: "slow", parametersMillions: 50, top1: 80, source: "b", seconds: [1: 0.08]),
                       NetworkTiming(name: "uncited", parametersMillions: 5, top1: nil, source: nil, seconds: [1: 0.005])]
        let path = TestSupport.temporaryDirectory().appendingPathComponent("compare.png").path
        try NetworkComparison.plot(timings, batchSize: 1, title: "test", format: .png).write(to: path)
        let image = try RGBImage(path: path)
        #expect(image.width == 1000 && image.height == 640)
        // The chart's axes: frame 80…960 × 50…570; time 0.8…max(2, 8 × 1.3) on a log scale, accuracy 57…83.
        func position(_ relative: Double, _ accuracy: Double) -> (Int, Int) {
            (Int(80 + log(relative / 0.8) / log(10.4 / 0.8) * 880), Int(50 + (1 - (accuracy - 57) / 26) * 520))
        }
        func isWhite(_ point: (Int, Int)) -> Bool {
            let index = (point.1 * image.width + point.0) * 3
            return image.pixels[index] > 245 && image.pixels[index + 1] > 245 && image.pixels[index + 2] > 245
        }
        #expect(!isWhite(position(1, 60)) && !isWhite(position(8, 80)))
        #expect(isWhite(position(3, 70)))
    }

    /// From the command line: one JSON line per network with its times and source; bad choices are one-line errors.
    @Test func theCommandPrintsEachNetworkAndRefusesBadChoices() throws {
        let run = try TestSupport.run(["compare", "--models", "squeezenet,mobilenetv2", "--batch-sizes", "1,2", "--runs", "1", "--format", "json"])
        let lines = run.stdout.split(separator: "\n")
        #expect(run.status == 0 && lines.count == 2, "\(run.stderr)")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.map { $0["model"] as? String } == ["squeezenet", "mobilenetv2"])
        #expect(objects.allSatisfy { ($0["milliseconds"] as? [String: Double])?.count == 2 && ($0["source"] as? String) != nil })
        #expect(objects.compactMap { $0["relative"] as? Double }.min() == 1)
        for options in [["--models", "yamnet"], ["--batch-sizes", "0"], ["--batch-sizes", "1,x"], ["--runs", "0"], ["--plot", "chart.gif"]] {
            let refused = try TestSupport.run(["compare"] + options)
            #expect(refused.status == 1 && refused.stderr.hasPrefix("Error:") && refused.stderr.split(separator: "\n").count == 1, "\(options): \(refused.stderr)")
        }
    }
}
