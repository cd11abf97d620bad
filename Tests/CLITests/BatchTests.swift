import Foundation
import TestSupport
import Testing

/// Folders, manifests and `--output-dir` for the commands that run over many files (pitch, classify, embed, image
/// classify, image embed): the model loads once, each input gets its own output at its relative path, a bad input
/// is reported and skipped, `--skip-existing` resumes.
@Suite struct BatchTests {
    let folder = TestSupport.temporaryDirectory()
    static let samples = TestSupport.repositoryRoot.appendingPathComponent("Samples")

    func path(_ relative: String) -> String { folder.appendingPathComponent(relative).path }

    /// A folder of real recordings, one a level down, and a hidden folder the search must leave out.
    func makeInputs(broken: Bool = false) throws -> String {
        let manager = FileManager.default
        for sub in ["in/sub", "in/.hidden"] { try manager.createDirectory(atPath: path(sub), withIntermediateDirectories: true) }
        try manager.copyItem(atPath: Self.samples.appendingPathComponent("speech.wav").path, toPath: path("in/speech.wav"))
        try manager.copyItem(atPath: Self.samples.appendingPathComponent("sweep.wav").path, toPath: path("in/sub/sweep.wav"))
        try manager.copyItem(atPath: Self.samples.appendingPathComponent("sweep.wav").path, toPath: path("in/.hidden/ignored.wav"))
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: path("in/notes.txt")))
        if broken { try Data("RIFF, but not a WAV".utf8).write(to: URL(fileURLWithPath: path("in/sub/broken.wav"))) }
        return path("in")
    }

    func files(under relative: String) -> [String] {
        (FileManager.default.enumerator(atPath: path(relative))?.allObjects as? [String] ?? []).filter {
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path(relative + "/" + $0), isDirectory: &isFolder) && !isFolder.boolValue
        }.sorted()
    }

    /// A folder run writes, at each input's relative path, the bytes a run on that file alone writes.
    @Test(arguments: [["pitch", "--model", "crepe-tiny"], ["embed", "--model", "yamnet"], ["classify", "--format", "json"]])
    func aFolderRunEqualsPerFileRunsBitForBit(_ command: [String]) throws {
        let inputs = try makeInputs()
        let batch = try TestSupport.run(command + [inputs, "--output-dir", path("out")])
        #expect(batch.status == 0, "\(batch.stderr)")
        let suffix = ["pitch": ".f0.csv", "embed": ".yamnet.npy", "classify": ".events.json"][command[0]]!
        let expected = ["speech" + suffix, "sub/sweep" + suffix] + (command[0] == "embed" ? ["speech.yamnet.times.npy", "sub/sweep.yamnet.times.npy"] : [])
        #expect(files(under: "out") == expected.sorted())
        #expect(batch.stderr.contains("2 of 2 audio files done"), "\(batch.stderr)")
        for (input, output) in [("in/speech.wav", "out/speech" + suffix), ("in/sub/sweep.wav", "out/sub/sweep" + suffix)] {
            let single: Data
            if command[0] == "classify" {
                let run = try TestSupport.run(command + [path(input)])
                single = Data(run.stdout.replacingOccurrences(of: path(input), with: inputs + "/" + input.dropFirst(3)).utf8)
            } else {
                #expect(try TestSupport.run(command + [path(input), "--output", path("single")]).status == 0)
                single = try Data(contentsOf: URL(fileURLWithPath: path("single")))
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path(output))) == single, "\(output)")
        }
    }

    /// An unreadable file is reported with its path, the others are done, and the run ends with status 2; with
    /// --strict it stops there with status 1.
    @Test func anUnreadableFileIsReportedSkippedAndCounted() throws {
        let inputs = try makeInputs(broken: true)
        let run = try TestSupport.run(["pitch", inputs, "--model", "crepe-tiny", "--output-dir", path("out")])
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.contains { $0.contains("broken.wav") } && lines.last == "Error: 1 of 3 inputs failed (each is reported above)", "\(run.stderr)")
        #expect(files(under: "out") == ["speech.f0.csv", "sub/sweep.f0.csv"])
        let strict = try TestSupport.run(["pitch", inputs, "--model", "crepe-tiny", "--output-dir", path("strict"), "--strict"])
        #expect(strict.status == 1 && strict.stderr.split(separator: "\n").count == 1 && strict.stderr.contains("broken.wav"), "\(strict.stderr)")
    }

    /// A list naming a missing file and holding a line that is not UTF-8: each bad line is reported on one line and
    /// writes nothing, the good inputs are done, and the run ends with status 2.
    @Test func badLinesOfAListAreReportedAndTheOthersDone() throws {
        let inputs = try makeInputs()
        var list = Data("\(inputs)/speech.wav\n\(inputs)/missing.wav\n".utf8)
        list += Data("\(inputs)/caf".utf8) + Data([0xE9, 0xFF]) + Data(".wav\n\(inputs)/sub/sweep.wav\n".utf8)
        try list.write(to: URL(fileURLWithPath: path("list.txt")))
        let run = try TestSupport.run(["classify", "--files-from", path("list.txt"), "--format", "json", "--output-dir", path("out")])
        #expect(run.status == 2, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 4 && lines.contains { $0.contains("missing.wav") && $0.contains("no such file") }
                && lines.contains { $0.contains("caf\u{FFFD}\u{FFFD}.wav") && $0.contains("no such file") }, "\(run.stderr)")
        #expect(lines.last == "Error: 2 of 4 inputs failed (each is reported above)")
        #expect(files(under: "out") == ["speech.events.json", "sweep.events.json"])
    }

    /// --skip-existing redoes nothing finished: kept outputs are not rewritten, a missing one is made.
    @Test func skipExistingRedoesOnlyWhatIsMissing() throws {
        let inputs = try makeInputs()
        #expect(try TestSupport.run(["embed", inputs, "--output-dir", path("out")]).status == 0)
        let kept = path("out/speech.yamnet.npy")
        let before = try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as! Date
        try FileManager.default.removeItem(atPath: path("out/sub/sweep.yamnet.npy"))
        Thread.sleep(forTimeInterval: 0.05)
        let again = try TestSupport.run(["embed", inputs, "--output-dir", path("out"), "--skip-existing"])
        #expect(again.status == 0 && again.stderr.contains("1 of 2 audio files done, 1 skipped"), "\(again.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as! Date == before)
        #expect(FileManager.default.fileExists(atPath: path("out/sub/sweep.yamnet.npy")))
    }

    /// A run killed midway leaves only complete outputs (each is written beside its target and renamed when whole),
    /// and --skip-existing then finishes the rest.
    @Test func aKilledRunLeavesNoPartialFileAndResumes() throws {
        try FileManager.default.createDirectory(atPath: path("many"), withIntermediateDirectories: true)
        for index in 0..<12 {
            try FileManager.default.copyItem(atPath: Self.samples.appendingPathComponent("speech.wav").path, toPath: path("many/clip\(index).wav"))
        }
        let process = Process()
        process.executableURL = TestSupport.executable
        process.arguments = ["pitch", path("many"), "--model", "crepe-small", "--output-dir", path("out")]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while files(under: "out").filter({ $0.hasSuffix(".f0.csv") }).isEmpty && Date() < deadline && process.isRunning { Thread.sleep(forTimeInterval: 0.02) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let written = files(under: "out")
        #expect(!written.isEmpty && written.count < 12, "\(written)")
        #expect(written.allSatisfy { $0.hasSuffix(".f0.csv") && !$0.hasPrefix(".") }, "\(written)")
        let reference = try TestSupport.run(["pitch", path("many/clip0.wav"), "--model", "crepe-small"]).stdout
        for file in written { #expect(try String(contentsOfFile: path("out/" + file), encoding: .utf8) == reference, "\(file)") }
        let resumed = try TestSupport.run(["pitch", path("many"), "--model", "crepe-small", "--output-dir", path("out"), "--skip-existing"])
        #expect(resumed.status == 0 && resumed.stderr.contains("\(12 - written.count) of 12 audio files done, \(written.count) skipped"), "\(resumed.stderr)")
        #expect(files(under: "out").count == 12)
    }

    /// A manifest's relative paths keep their folders under --output-dir; blank and '#' lines are skipped.
    @Test func aManifestListsInputsWithTheirFolders() throws {
        _ = try makeInputs()
        try "# two clips\nin/speech.wav\n\nin/sub/sweep.wav\n".write(toFile: path("list.txt"), atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["classify", "--files-from", "list.txt", "--output-dir", "out", "--clip"], directory: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(files(under: "out") == ["in/speech.clip.txt", "in/sub/sweep.clip.txt"])
    }

    /// Images the same way: a folder of images classified one file per image, features per image.
    @Test func imageCommandsTakeFoldersToo() throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("$AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return
        }
        try FileManager.default.createDirectory(atPath: path("images"), withIntermediateDirectories: true)
        let shared = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images")
        for name in ["bird.bmp", "owl.jpg"] { try FileManager.default.copyItem(atPath: shared.appendingPathComponent(name).path, toPath: path("images/" + name)) }
        let classify = try TestSupport.run(["image", "classify", path("images"), "--format", "json", "--output-dir", path("classes")])
        #expect(classify.status == 0, "\(classify.stderr)")
        #expect(files(under: "classes") == ["bird.classes.json", "owl.classes.json"])
        let embed = try TestSupport.run(["image", "embed", path("images"), "--output-dir", path("features")])
        #expect(embed.status == 0, "\(embed.stderr)")
        #expect(files(under: "features") == ["bird.mobilenetv2.npy", "owl.mobilenetv2.npy"])
        let stacked = try TestSupport.run(["image", "embed", path("images"), "--output", path("rows.npy")])
        #expect(stacked.status == 0 && stacked.stderr.contains("2×1280"), "\(stacked.stderr)")
    }

    /// Inputs that would write one output, an empty folder, and bad option mixes are one-line errors, and nothing is written.
    @Test func conflictingInputsAndOptionsAreOneLineErrors() throws {
        _ = try makeInputs()
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path("in/sub/sweep.wav"), toPath: path("in/sweep.wav"))
        for arguments in [["pitch", path("in/sweep.wav"), path("in/sub/sweep.wav"), "--output-dir", path("out")],
                          ["pitch", path("empty"), "--output-dir", path("out")],
                          ["embed", path("in"), "--output", path("out/x.npy")],
                          ["pitch", path("in"), "--skip-existing"],
                          ["classify", path("in"), "--threads", "0"],
                          ["pitch", path("in"), "--output", path("x.csv"), "--output-dir", path("out")]] {
            let run = try TestSupport.run(arguments)
            #expect(run.status == 1 && run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: path("out")))
    }
}
