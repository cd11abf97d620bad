import AudioNet
import Foundation
import TestSupport
import Testing

/// The Free Spoken Digit Dataset in the shared data (five speakers, 2,500 files, 8 kHz), next to the weights mirror.
func fsddFolder() -> String? {
    guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
        Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared FSDD cannot be found")
        return nil
    }
    let folder = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path
    guard FileManager.default.fileExists(atPath: folder) else {
        Issue.record("no FSDD at \(folder), so this check cannot run")
        return nil
    }
    return folder
}

/// Reading labelled files: class folders, CSV manifests, and the inputs a user gets wrong.
@Suite struct DatasetTests {
    func write(_ text: String, to path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    @Test func classFoldersGiveSortedLabelsFromTheirNames() throws {
        guard let fsdd = fsddFolder() else { return }
        let files = try LabeledFiles(contentsOf: fsdd)
        #expect(files.classes == (0...9).map(String.init) && files.paths.count == 2500)
        #expect(files.paths[0].hasSuffix("/0/0_george_0.wav") && files.labels[0] == 0 && files.labels.last == 9)
    }

    /// Quoted labels may hold commas and any Unicode; paths are relative to the manifest; a header is skipped.
    @Test func aManifestReadsQuotedAndUnicodeLabels() throws {
        let folder = TestSupport.temporaryDirectory()
        let wav = TestSupport.fixture("frontend/speech.wav")
        try FileManager.default.copyItem(atPath: wav, toPath: folder.appendingPathComponent("a.wav").path)
        try write("path,label\na.wav,\"dog, barking\"\n\(wav),Grüße 🐦\n\"a.wav\",\"say \"\"hi\"\"\"\n",
                  to: folder.appendingPathComponent("list.csv").path)
        let files = try LabeledFiles(contentsOf: folder.appendingPathComponent("list.csv").path)
        #expect(files.classes == ["Grüße 🐦", "dog, barking", "say \"hi\""])
        #expect(files.paths == [folder.appendingPathComponent("a.wav").path, wav, folder.appendingPathComponent("a.wav").path])
        #expect(files.labels == [1, 0, 2])
    }

    @Test func aManifestRowWithAMissingFileNamesItsLine() throws {
        let folder = TestSupport.temporaryDirectory()
        try write("\(TestSupport.fixture("frontend/speech.wav")),a\nnowhere.wav,b\n", to: folder.appendingPathComponent("list.csv").path)
        #expect(throws: DatasetError.missingFile(folder.appendingPathComponent("list.csv").path, line: 2,
                                                  path: folder.appendingPathComponent("nowhere.wav").path)) {
            try LabeledFiles(contentsOf: folder.appendingPathComponent("list.csv").path)
        }
    }

    @Test func anEmptyClassFolderAndASingleClassAreRefused() throws {
        let folder = TestSupport.temporaryDirectory()
        for name in ["cat", "dog"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: TestSupport.fixture("frontend/speech.wav"), toPath: folder.appendingPathComponent("cat/1.wav").path)
        #expect(throws: DatasetError.emptyClass("dog")) { try LabeledFiles(contentsOf: folder.path) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("dog"))
        #expect(throws: DatasetError.tooFewClasses(folder.path, ["cat"])) { try LabeledFiles(contentsOf: folder.path) }
    }

    /// Each class gives its share to validation, and the same seed gives the same split.
    @Test func theValidationSplitIsStratifiedAndRepeatable() throws {
        let files = LabeledFiles(classes: ["a", "b"], paths: (0..<30).map { "\($0).wav" }, labels: (0..<30).map { $0 < 20 ? 0 : 1 })
        let split = files.split(validationFraction: 0.2, seed: 7)
        #expect(split.validation.filter { files.labels[$0] == 0 }.count == 4 && split.validation.filter { files.labels[$0] == 1 }.count == 2)
        #expect(Set(split.train).isDisjoint(with: split.validation) && split.train.count + split.validation.count == 30)
        #expect(files.split(validationFraction: 0.2, seed: 7) == split && files.split(validationFraction: 0.2, seed: 8) != split)
    }
}
