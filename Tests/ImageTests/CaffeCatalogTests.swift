import AudioNet
import Formats
import Foundation
import ImageIO
import Models
import NetCore
import TestSupport
import Testing

/// MATLAB's GoogLeNet, GoogLeNet-Places365 and AlexNet: BVLC's Caffe networks, built from their shared deploy definitions
/// with `.caffemodel` weights (seeded ones by Tests/Reference/make_caffe_fixtures.py, with a PyTorch interpreter of the
/// same definitions as reference).
@Suite struct CaffeCatalogTests {
    static let store = WeightStore.fromEnvironment()

    /// Each catalog network with the fixture's weights, fed the fixture's input channels-last, gives PyTorch's
    /// probabilities and logits within 1e-4 of the largest.
    @Test(arguments: [("googlenet", "googlenet", "loss3/classifier"), ("googlenet-places365", "googlenet_places365", "loss3/classifier"),
                      ("alexnet", "alexnet", "fc8")])
    func theCatalogNetworkAgreesWithPyTorch(_ name: String, fixture: String, logits: String) throws {
        guard let weights = TestSupport.generatedFixture("caffe/\(fixture).caffemodel") else { return }
        let descriptor = try #require(Networks.named(name))
        let network = try descriptor.load!(name, Self.store, weights).optimized()
        let input = try NPY.read(path: TestSupport.generatedFixture("caffe/\(fixture).input.npy")!).tensor.permuted([0, 2, 3, 1])
        #expect(network.inputShape == descriptor.inputSize)
        let outputs = try network.run(input, outputs: [network.outputName, logits])
        for (node, file) in [(network.outputName, "output"), (logits, "logits")] {
            let reference = try NPY.read(path: TestSupport.generatedFixture("caffe/\(fixture).\(file).npy")!).tensor
            let error = TestSupport.relativeError(outputs[node]!, reference)
            #expect(error <= 1e-4, "\(name) \(node): relative error \(error)")
        }
    }

    /// The seed's parameter counts (7.0 M, 61.0 M; Places365's head has 365 classes) and MATLAB's layer counts: AlexNet's
    /// definition has 23 layers (MATLAB adds its input and output layers: 25), SqueezeNet v1.1 65 (MATLAB: 68).
    @Test func parameterAndLayerCountsAreMATLABs() throws {
        func network(_ name: String) throws -> Network { try Networks.architecture(named: name, store: Self.store) }
        func parameters(_ network: Network) -> Int { network.summary.reduce(0) { $0 + $1.parameters } }
        let googLeNet = try network("googlenet"), places = try network("googlenet-places365"), alexNet = try network("alexnet")
        #expect(parameters(googLeNet) == 6_998_552 && googLeNet.shapes[googLeNet.outputName] == [1000])
        #expect(places.shapes[places.outputName] == [365] && parameters(places) == 6_998_552 - 1024 * (1000 - 365) - (1000 - 365))
        #expect(parameters(alexNet) == 60_965_224)
        // Nodes named '#…' are the importer's layout steps (the CHW order fc6 reads), not Caffe layers.
        #expect(alexNet.nodes.filter { !$0.name.contains("#") }.count == 23)
        #expect(try network("squeezenet").nodes.count == 68 - 3)
        #expect(parameters(try network("squeezenet")) == 1_235_496)
    }

    /// Caffe's networks take BGR pixels less the ImageNet mean pixel (Caffe's imagenet_mean.hpp), unscaled.
    @Test func caffeNetworksTakeBGRPixelsLessTheMeanPixel() throws {
        guard let weights = TestSupport.generatedFixture("caffe/googlenet.caffemodel") else { return }
        let classifier = try ImageClassifier.load("googlenet", store: Self.store, weightsPath: weights)
        let image = RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 12).enumerated().map { [200, 100, 50][$0.offset % 3] })
        let input = classifier.input(for: image)
        #expect(input.shape == [1, 224, 224, 3])
        let pixel = Array(input.scalars.prefix(3))
        #expect(TestSupport.maxAbsDifference(pixel, [50 - 104.00, 100 - 116.66, 200 - 122.67]) < 1e-3, "\(pixel)")
    }

    /// Places365's class names are its category paths without the initial letter, in index order; a line out of order
    /// is a one-line error naming the file.
    @Test func places365LabelsAreTheCategoryPaths() throws {
        let names = try ImageLabels(file: GoogLeNet.placesCategories, layout: .indexedPaths).names(store: Self.store)
        #expect(names.count == 365 && names.first == "airfield" && names.last == "zen_garden")
        #expect(names.contains("apartment_building/outdoor"))
        let outOfOrder = try TestSupport.labelFile("/a/airfield 0\n/a/alley 2\n")
        #expect { try ImageLabels(file: outOfOrder.file, layout: .indexedPaths).names(store: outOfOrder.store) } throws: {
            "\($0)".contains("line 2 is not") && !"\($0)".contains("\n")
        }
    }

    /// Places365's indoor/outdoor table gives each class its environment, in class order; `image classify` prints it as
    /// a column; a table whose lines are out of order is a one-line error.
    @Test func places365ClassesAreIndoorOrOutdoor() throws {
        guard let weights = TestSupport.generatedFixture("caffe/googlenet_places365.caffemodel") else { return }
        let classifier = try ImageClassifier.load("googlenet-places365", store: Self.store, weightsPath: weights)
        let groups = try #require(classifier.groups)
        #expect(groups.title == "environment" && groups.names.count == 365 && Set(groups.names) == ["indoor", "outdoor"])
        let environment = Dictionary(uniqueKeysWithValues: zip(classifier.labels, groups.names))
        #expect(environment["airfield"] == "outdoor" && environment["airplane_cabin"] == "indoor" && environment["zen_garden"] == "outdoor")
        if let image = try sharedImages().first {
            let result = try TestSupport.run(["image", "classify", image, "--model", "googlenet-places365", "--weights", weights, "--top", "1"])
            let rows = result.stdout.split(separator: "\n")
            #expect(result.status == 0 && rows.count == 3 && rows[1].hasSuffix("environment"), "\(result.stdout)\(result.stderr)")
            #expect(rows.count == 3 && (rows[2].hasSuffix("indoor") || rows[2].hasSuffix("outdoor")), "\(result.stdout)")
        }
        let table = try String(contentsOfFile: try Self.store.locate(GoogLeNet.placesIndoorOutdoor), encoding: .utf8).split(separator: "\n")
        let swapped = try TestSupport.labelFile(([table[1], table[0]] + table.dropFirst(2)).joined(separator: "\n"))
        let places = try #require(GoogLeNet.places365.imageClassifier?.groups)
        let swappedGroups = ClassGroups(file: swapped.file, title: places.title, names: places.names)
        #expect { try swappedGroups.groups(store: swapped.store, labels: classifier.labels) } throws: {
            "\($0)".contains("line 1 is not '/a/airfield N'") && !"\($0)".contains("\n")
        }
    }
}
