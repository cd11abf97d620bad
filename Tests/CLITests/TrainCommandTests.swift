import Foundation
import TestSupport
import Testing

/// `audionet train`, `evaluate` and `classify --model` end to end on a small FSDD subset (digits 0 and 1 of two speakers).
@Suite struct TrainCommandTests {
    let directory = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A manifest of `digits` said by `speakers`, recordings `indices`.
    func manifest(_ name: String, digits: [Int], speakers: [String], indices: Range<Int>) throws -> String? {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so FSDD cannot be found")
            return nil
        }
        let fsdd = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path
        let rows = digits.flatMap { digit in speakers.flatMap { speaker in indices.map { "\(fsdd)/\(digit)/\(digit)_\(speaker)_\($0).wav,\(digit)" } } }
        try (["path,label"] + rows).joined(separator: "\n").write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    @Test func trainEvaluateAndClassifyWithTheTrainedModel() throws {
        guard let train = try manifest("train.csv", digits: [0, 1], speakers: ["george", "jackson"], indices: 5..<30),
              let test = try manifest("test.csv", digits: [0, 1], speakers: ["george", "jackson"], indices: 0..<5) else { return }
        let trained = try TestSupport.run(["train", train, "--output", path("digits.audionet")])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.hasPrefix("\(path("digits.audionet")): 2 classes, 80 training files"), "\(trained.stdout)")
        #expect(trained.stderr.contains("epoch 1: train loss") && trained.stderr.contains("validation loss"), "\(trained.stderr)")
        let info = try TestSupport.run(["info", path("digits.audionet")])
        #expect(info.status == 0 && info.stdout.contains("a classifier on yamnet clip embeddings (1024 features), softmax regression")
                && info.stdout.contains("classes (2): 0, 1") && info.stdout.contains("trainingFiles 80"), "\(info.stdout)\(info.stderr)")
        let exported = try TestSupport.run(["export", path("digits.audionet"), "--output", path("digits.onnx")])
        #expect(exported.status == 0 && exported.stdout.contains("input 'input' [N, 96, 64] (the examples of one clip), output 'probabilities' [1, 2]"),
                "\(exported.stdout)\(exported.stderr)")
        // A second run with another head takes every embedding from the cache.
        let again = try TestSupport.run(["train", train, "--output", path("wide.audionet"), "--hidden", "8"])
        #expect(again.status == 0 && again.stderr.contains("embedding training files: 80/80 (80 from the cache)"), "\(again.stderr)")

        let evaluated = try TestSupport.run(["evaluate", test, "--model", path("digits.audionet"), "--format", "json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        let accuracy = try #require(json["accuracy"] as? Double)
        #expect(accuracy >= 0.8, "0 against 1 from two known voices (chance: 0.5): accuracy \(accuracy)")
        #expect((json["confusion"] as? [[Int]])?.flatMap { $0 }.reduce(0, +) == 20 && json["labels"] as? [String] == ["0", "1"])

        let classified = try TestSupport.run(["classify", test.replacingOccurrences(of: "test.csv", with: "x"), "--model", path("digits.audionet")])
        #expect(classified.status != 0)
        let file = try String(contentsOfFile: test, encoding: .utf8).split(separator: "\n")[1].split(separator: ",")[0]
        let one = try TestSupport.run(["classify", String(file), "--model", path("digits.audionet"), "--clip", "--format", "csv", "--top", "1"])
        #expect(one.status == 0 && one.stdout.hasPrefix("file,index,label,score\n\(file),"), "\(one.stdout)\(one.stderr)")
        // Events with the model's classes: an FSDD recording (under a second) is one patch, so its one event spans the
        // file and scores what the whole-file top class scores.
        let events = try TestSupport.run(["classify", String(file), "--model", path("digits.audionet"), "--format", "csv", "--threshold", "0.5"])
        let rows = events.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let clipRow = one.stdout.split(separator: "\n")[1].split(separator: ",").map(String.init)
        #expect(events.status == 0 && rows.first == ["file", "label", "start", "end", "score"] && rows.count == 2, "\(events.stdout)\(events.stderr)")
        #expect(rows.last?[1] == clipRow[2] && rows.last?[2] == "0.000", "\(rows) vs \(clipRow)")
        let eventScore = rows.last.flatMap { Float($0[4]) } ?? -1, clipScore = Float(clipRow[3]) ?? 2
        #expect(abs(eventScore - clipScore) < 1e-5, "\(rows) vs \(clipRow)")
    }

    /// An image backbone: train on the shared pictures (birds against the rest), then `image classify --model`;
    /// the sound classifier refuses the image model in one line.
    @Test func trainOnImagesAndClassifyImagesWithTheModel() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return
        }
        let images = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images").path
        let rows = ["bird.bmp", "owl.jpg", "parrot.jpg"].map { "\(images)/\($0),bird" }
            + ["cat.bmp", "hot_dog.jpg", "sunflower.bmp", "dragonfly.bmp", "grace_hopper.bmp"].map { "\(images)/\($0),other" }
        try rows.joined(separator: "\n").write(toFile: path("images.csv"), atomically: true, encoding: .utf8)
        let trained = try TestSupport.run(["train", path("images.csv"), "--backbone", "mobilenetv2", "--validation-split", "0",
                                           "--epochs", "100", "--output", path("birds.audionet")])
        #expect(trained.status == 0 && trained.stdout.contains("2 classes, 8 training files"), "\(trained.stdout)\(trained.stderr)")
        let classified = try TestSupport.run(["image", "classify", "\(images)/owl.jpg", "--model", path("birds.audionet"), "--top", "1"])
        #expect(classified.status == 0 && classified.stdout.split(separator: "\n").last?.hasPrefix("0      bird") == true, "\(classified.stdout)\(classified.stderr)")
        let refused = try TestSupport.run(["classify", "\(images)/owl.jpg", "--model", path("birds.audionet")])
        #expect(refused.status != 0 && refused.stderr.contains("an image network: use `audionet image classify`")
                && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    }

    @Test func aDatasetWithOneClassIsRefusedWithOneLine() throws {
        guard let train = try manifest("one.csv", digits: [3], speakers: ["theo"], indices: 0..<3) else { return }
        let result = try TestSupport.run(["train", train, "--output", path("x.audionet")])
        #expect(result.status != 0 && result.stderr.contains("has 1 class (3); training needs at least two"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: path("x.audionet")))
    }

    /// Fine-tuning options out of range or without `--fine-tune-layers` are refused with one line, before any file is
    /// read and with nothing written.
    @Test(arguments: [(["--fine-tune-layers", "0"], "--fine-tune-layers takes a count of layers (1 or more) or 'all', not '0'"),
                      (["--fine-tune-layers", "abc"], "--fine-tune-layers takes a count of layers (1 or more) or 'all', not 'abc'"),
                      (["--fine-tune-layers", "2", "--optimizer", "rms"], "--optimizer must be one of adam, adamw, sgd, not 'rms'"),
                      (["--fine-tune-layers", "2", "--warmup-epochs", "50"], "--warmup-epochs must be within 0..<50 (the epochs)"),
                      (["--backbone-learning-rate", "0.001"], "--backbone-learning-rate needs --fine-tune-layers"),
                      (["--fine-tune-layers", "2", "--batch-norm", "moving"], "--batch-norm must be frozen or batch, not 'moving'"),
                      (["--batch-norm", "batch"], "--batch-norm needs --fine-tune-layers")])
    func aFineTuningOptionOutOfRangeIsRefusedWithOneLine(options: [String], message: String) throws {
        guard let train = try manifest("bad-options.csv", digits: [0, 1], speakers: ["theo"], indices: 0..<2) else { return }
        let output = path("bad-options.audionet")
        let result = try TestSupport.run(["train", train, "--output", output] + options)
        #expect(result.status != 0 && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
