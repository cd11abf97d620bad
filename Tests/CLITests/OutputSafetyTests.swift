import Formats
import Foundation
import TestSupport
import Testing

/// No command overwrites its input, replaces a device node, resets an output's mode or loses stdout output.
@Suite struct OutputSafetyTests {
    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A copy of a real recording, and three other names for the same file.
    func inputWithAliases() throws -> (input: String, aliases: [String]) {
        let input = path("in.wav")
        try FileManager.default.copyItem(atPath: TestSupport.fixture("frontend/speech.wav"), toPath: input)
        try FileManager.default.createSymbolicLink(atPath: path("link.wav"), withDestinationPath: "in.wav")
        try FileManager.default.linkItem(atPath: input, toPath: path("hard.wav"))
        return (input, [input, path("link.wav"), path("hard.wav"), directory.path + "/./in.wav"])
    }

    /// Each command's output options, with IN the input, OUT the output that names it and OTHER a free path.
    static let commands = [
        "pitch IN --model crepe-tiny --output OUT", "pitch IN --model crepe-tiny --output OTHER --activation OUT",
        "spectrogram IN --output OUT", "embed IN --model yamnet --output OUT", "embed IN --model yamnet --output OTHER --timestamps OUT",
    ]

    @Test(arguments: commands)
    func anOutputThatIsTheInputIsRefusedAndTheInputKept(command: String) throws {
        let (input, aliases) = try inputWithAliases()
        let original = try Data(contentsOf: URL(fileURLWithPath: input))
        for alias in aliases {
            let arguments = command.split(separator: " ").map { word in
                ["IN": input, "OUT": alias, "OTHER": path("other.out")][String(word)] ?? String(word)
            }
            let result = try TestSupport.run(arguments)
            #expect(result.status == 1 && result.stderr.contains("refusing to overwrite an input"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == original, "\(arguments) changed the input")
        }
    }

    /// A model (or an evaluation's plot) written over one of the dataset's files is refused before any training.
    @Test func trainAndEvaluateRefuseToWriteOverAFileOfTheirDataset() throws {
        for (label, fixture) in [("speech", "speech"), ("tone", "tone")] {
            let classFolder = directory.appendingPathComponent("dataset/\(label)")
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestSupport.fixture("frontend/\(fixture).wav"), toPath: classFolder.appendingPathComponent("a.wav").path)
        }
        // A plot must end in .png or .svg: a dataset file so named (its contents do not matter here).
        let member = directory.appendingPathComponent("dataset/speech/a.wav").path, picture = directory.appendingPathComponent("dataset/tone/b.png").path
        try FileManager.default.copyItem(atPath: member, toPath: picture)
        for (arguments, member) in [(["train", directory.appendingPathComponent("dataset").path, "--output", member], member),
                                    (["evaluate", directory.appendingPathComponent("dataset").path, "--model", path("none.audionet"), "--plot", picture], picture)] {
            let original = try Data(contentsOf: URL(fileURLWithPath: member))
            let result = try TestSupport.run(arguments)
            #expect(result.status == 1 && result.stderr.contains("refusing to overwrite an input"), "\(arguments): \(result.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: member)) == original, "\(arguments) changed the input")
        }
    }

    @Test func runRefusesToWriteOverItsInputTensor() throws {
        let tensor = path("x.npy")
        try NPY.write(NPYArray(shape: [1, 96, 64], float32: [Float](repeating: -3, count: 96 * 64)), path: tensor)
        let original = try Data(contentsOf: URL(fileURLWithPath: tensor))
        let result = try TestSupport.run(["run", "yamnet", "--input", tensor, "--output", tensor])
        #expect(result.status == 1 && result.stderr.contains("refusing to overwrite an input"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tensor)) == original)
    }

    @Test func twoOutputsNamingOneFileAreRefused() throws {
        let result = try TestSupport.run(["embed", TestSupport.fixture("frontend/speech.wav"), "--model", "yamnet",
                                          "--output", path("e.npy"), "--timestamps", path("e.npy")])
        #expect(result.status == 1 && result.stderr.contains("given twice"), "\(result.stderr)")
    }

    @Test func overwritingKeepsTheOutputsModeAndHardLinks() throws {
        let output = path("out.npy")
        try Data("old".utf8).write(to: URL(fileURLWithPath: output))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: output)
        try FileManager.default.linkItem(atPath: output, toPath: path("second-name.npy"))
        let result = try TestSupport.run(["spectrogram", TestSupport.fixture("frontend/tone.wav"), "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(attributes[.referenceCount] as? Int == 2, "the hard link was broken")
        #expect(try NPY.read(path: path("second-name.npy")).shape[1] == 64, "the other name sees the new contents")
    }

    @Test func aNewOutputGetsTheUmasksMode() throws {
        #expect(try TestSupport.run(["spectrogram", TestSupport.fixture("frontend/tone.wav"), "--output", path("new.npy")]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: path("new.npy"))[.posixPermissions] as? Int
        let mask = umask(0)
        umask(mask)
        #expect(mode == 0o666 & ~Int(mask), "mode \(String(mode ?? 0, radix: 8))")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func aDeviceOutputIsWrittenInPlaceNeverReplaced() throws {
        let result = try TestSupport.run(["spectrogram", TestSupport.fixture("frontend/tone.wav"), "--output", "/dev/null"])
        #expect(result.status == 0, "\(result.stderr)")
        let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        #expect(type == .typeCharacterSpecial, "/dev/null is now \(String(describing: type))")
        let full = try TestSupport.run(["spectrogram", TestSupport.fixture("frontend/tone.wav"), "--output", "/dev/full"])
        #expect(full.status == 1 && full.stderr.contains("No space left"), "\(full.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: "/dev/full")[.type] as? FileAttributeType == .typeCharacterSpecial)
    }

    @Test func aFailedWriteToStdoutIsAnError() throws {
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { Issue.record("no /dev/full"); return }
        let result = try TestSupport.run(["models"], standardOutput: full)
        #expect(result.status == 1 && result.stderr.contains("cannot write to standard output"), "\(result.stderr)")
    }

    @Test func aClosedPipeEndsTheCommandQuietly() throws {
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let result = try TestSupport.run(["models"], standardOutput: pipe.fileHandleForWriting)
        #expect(result.status != 0 && result.stderr.isEmpty, "status \(result.status), stderr: \(result.stderr)")
    }
}

/// Crafted files (Tests/Reference/make_hostile_files.py) give a one-line error and exit 1, within 2 GB of
/// address space, quickly; a FIFO in place of a file is refused instead of blocking.
@Suite struct HostileFileTests {
    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static let memoryLimit = 2_000_000_000

    /// An input tensor of the right shape for `run resnet18`, so that only the weights can fail.
    func imageTensor() throws -> String {
        let tensor = path("image.npy")
        try NPY.write(NPYArray(shape: [1, 224, 224, 3], float32: [Float](repeating: 0, count: 224 * 224 * 3)), path: tensor)
        return tensor
    }

    static let pytorchFiles = [("pth-shape-overflow.pth", "impossible shape"), ("pth-stride-overflow.pth", "reaches past its storage"),
                               ("pth-offset-overflow.pth", "reaches past its storage"),
                               ("pth-broadcast-4tb.pth", "1099511627776 elements on a storage of 1"),
                               ("pickle-deep.pth", "nest deeper than 100"), ("pickle-laughs.pth", "more than 10000000 objects")]

    @Test(arguments: pytorchFiles)
    func craftedPyTorchFilesFailWithOneLine(file: String, reason: String) throws {
        let result = try TestSupport.run(["run", "resnet18", "--weights", TestSupport.fixture("hostile/\(file)"),
                                          "--input", try imageTensor(), "--output", path("y.npy")], memoryLimit: Self.memoryLimit)
        #expect(result.status == 1 && result.stderr.contains(reason), "\(file): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test func aKerasDatasetWithOverflowingDimensionsFailsWithOneLine() throws {
        let result = try TestSupport.run(["pitch", TestSupport.fixture("frontend/tone.wav"), "--model", "crepe-tiny",
                                          "--weights", TestSupport.fixture("hostile/h5-dimension-overflow.h5")], memoryLimit: Self.memoryLimit)
        #expect(result.status == 1 && result.stderr.contains("larger than the file allows"), "\(result.stderr)")
    }

    /// One deflated 8 MB dataset named 300 times: the datasets of a file are allowed 16 times its size together, so
    /// the third read is refused instead of 2.4 GB being held (fuzzing found a file that did this).
    @Test func aKerasDatasetNamedManyTimesIsReadOnlyWithinTheFilesAllowance() throws {
        let result = try TestSupport.run(["pitch", TestSupport.fixture("frontend/tone.wav"), "--model", "crepe-tiny",
                                          "--weights", TestSupport.fixture("hostile/h5-one-dataset-many-names.h5")], memoryLimit: 500_000_000)
        #expect(result.status == 1 && result.stderr.contains("larger than the file allows"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    /// A float type claiming 4 GB elements: libhdf5 1.10 converts through buffers of that size (4.3 GB held for an
    /// 8.7 KB fuzzed file); Keras writes 2-, 4- or 8-byte floats, and anything else is refused before reading.
    @Test func aKerasDatasetWhoseFloatsClaimGigabytesIsRefused() throws {
        let result = try TestSupport.run(["pitch", TestSupport.fixture("frontend/tone.wav"), "--model", "crepe-tiny",
                                          "--weights", TestSupport.fixture("hostile/h5-huge-float-element.h5")], memoryLimit: 500_000_000)
        #expect(result.status == 1 && result.stderr.contains("4294967044-byte floats"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    /// Variable-length strings live in HDF5's global heap, whose libhdf5 1.10 reader crashed on a fuzzed file.
    @Test func kerasNamesStoredAsVariableLengthStringsAreRefused() throws {
        let result = try TestSupport.run(["pitch", TestSupport.fixture("frontend/tone.wav"), "--model", "crepe-tiny",
                                          "--weights", TestSupport.fixture("hostile/h5-variable-length-names.h5")])
        #expect(result.status == 1 && result.stderr.contains("variable-length strings"), "\(result.stderr)")
    }

    /// A WAV announcing 2^32 − 1 bytes at 100 Hz made the reader reserve 7·10^11 samples (fuzzing found it).
    @Test func anAbsurdFrameCountIsNotReservedAhead() throws {
        let result = try TestSupport.run(["spectrogram", TestSupport.fixture("hostile/wav-huge-frame-count.wav"), "--output", path("x.npy")],
                                         memoryLimit: Self.memoryLimit)
        #expect(result.status == 0 || result.stderr.split(separator: "\n").count == 1, "\(result.status): \(result.stderr)")
        #expect(result.status <= 1, "crashed: \(result.status) \(result.stderr)")
    }

    @Test func aFIFOInPlaceOfAWeightFileIsRefusedAtOnce() throws {
        let fifo = path("weights.h5")
        #expect(mkfifo(fifo, 0o600) == 0)
        let result = try TestSupport.run(["pitch", TestSupport.fixture("frontend/tone.wav"), "--model", "crepe-tiny", "--weights", fifo])
        #expect(result.status == 1 && result.stderr.contains("FIFO"), "\(result.stderr)")
        let input = try TestSupport.run(["spectrogram", fifo, "--output", path("x.npy")])
        #expect(input.status == 1 && input.stderr.contains("FIFO"), "\(input.stderr)")
    }

    @Test func runRefusesNonFiniteInputsNamingTheElement() throws {
        var values = [Float](repeating: 0, count: 2 * 96 * 64)
        values[96 * 64 + 5] = .nan
        try NPY.write(NPYArray(shape: [2, 96, 64], float32: values), path: path("nan.npy"))
        let result = try TestSupport.run(["run", "yamnet", "--input", path("nan.npy"), "--output", path("y.npy")])
        #expect(result.status == 1 && result.stderr.contains("index [1, 0, 5]"), "\(result.stderr)")
    }
}
