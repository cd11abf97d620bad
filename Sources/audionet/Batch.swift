import ArgumentParser
import AudioNet
import Foundation

/// The inputs of a command that runs over many files — files, folders (searched recursively by extension) or a
/// manifest — and where each one's output goes.
struct BatchOptions: ParsableArguments {
    @Option(name: .customLong("files-from"), help: ArgumentHelp("A file listing more inputs, one path per line ('-': standard input).", valueName: "LIST"))
    var filesFrom: String?

    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Write one output per input under this folder, at the input's relative path.", valueName: "DIR"))
    var outputDirectory: String?

    @Flag(name: .customLong("skip-existing"), help: "With --output-dir: leave out inputs whose output exists (resumes a run).")
    var skipExisting = false

    @Option(help: ArgumentHelp("Take only part I of N of the inputs (0 ≤ I < N; by a hash of each path, the same on every machine); 'auto' reads a Slurm array task's index and count, 'auto/N' a Kubernetes Indexed Job's index.", valueName: "I/N"))
    var shard: String?

    @Flag(help: "Stop at the first input that fails (default: report it, go on, and exit with status 2 at the end).")
    var strict = false

    @Option(help: ArgumentHelp("Threads for the network (default: $AUDIONET_THREADS, else every core).", valueName: "N"))
    var threads: Int?

    func validate() throws {
        guard threads.map({ $0 > 0 && $0 <= 4096 }) ?? true else { throw CommandError("--threads must be within 1…4096") }
        guard !skipExisting || outputDirectory != nil else { throw CommandError("--skip-existing needs --output-dir") }
        _ = try part()
    }

    /// The `--shard` this run takes, read against the scheduler's variables.
    func part() throws -> Shard? {
        try shard.map { try Shard(parsing: $0, environment: ProcessInfo.processInfo.environment) }
    }
}

/// How an audio command reads a file's channels: mixed to mono (the default), or each on its own (MATLAB treats the
/// columns of a signal as channels): `--channels each` makes one input of every channel.
enum ChannelMode: String, ExpressibleByArgument, CaseIterable {
    case mix, each
}

/// One input of a batch: its path, the path its output takes under `--output-dir` (the path below the folder it
/// was found in, or its file name), and the channel it reads (counted from 0; nil: all, mixed).
struct BatchInput: Equatable {
    let path: String
    let relative: String
    var channel: Int? = nil
    /// For `-` (standard input): the raw PCM layout, when the stream has no header.
    var raw: RawPCM? = nil

    /// The input named `-`: a stream on standard input.
    var isStandardInput: Bool { path == "-" }

    /// `relative` with its extension replaced by `suffix` (`speech.wav` → `speech.f0.csv`; channel 2 →
    /// `speech.ch2.f0.csv`), under `folder`.
    func output(in folder: String, suffix: String) -> String {
        ((folder as NSString).appendingPathComponent(relative) as NSString).deletingPathExtension + (channel.map { ".ch\($0 + 1)" } ?? "") + suffix
    }

    /// The input as results name it: its path, with its channel when it reads one (`stereo.wav (channel 2)`).
    var name: String { channel.map { "\(path) (channel \($0 + 1))" } ?? path }

    /// The input's samples at `sampleRate`, mono: its channel, or all of them mixed.
    func samples(sampleRate: Int) throws -> [Float] {
        guard isStandardInput else { return try AudioFileReader.readMono(path: path, sampleRate: sampleRate, channel: channel).samples }
        let stream = try stream(sampleRate: sampleRate)
        var samples: [Float] = []
        while let block = try stream.readBlock() { samples += block }
        return samples
    }

    /// The input's samples at `sampleRate`, mono, read as they are consumed.
    func stream(sampleRate: Int) throws -> AudioFileStream {
        guard isStandardInput else { return try AudioFileStream(opening: path, sampleRate: sampleRate, channel: channel) }
        return try AudioFileStream(reading: PipeSource(), raw: raw, sampleRate: sampleRate, channel: channel)
    }
}

/// Runs a command's work over its inputs: the model is loaded once by the caller, each input is done in turn,
/// one that fails is reported on stderr and skipped (unless `--strict`), a progress line is drawn on stderr when
/// it is a terminal, and a summary line ends a run of several inputs written under `--output-dir` or watched.
struct Batch {
    let inputs: [BatchInput]
    let options: BatchOptions
    /// What the inputs are called in messages (`audio files`, `images`).
    let kind: String

    /// Audio files as libsndfile reads them.
    static let audioExtensions: Set<String> = ["wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc", "au", "snd", "caf", "w64", "mp3"]
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "gif", "tga", "ppm", "pgm", "psd", "hdr"]

    init(inputs: [BatchInput], options: BatchOptions, kind: String) {
        self.inputs = inputs
        self.options = options
        self.kind = kind
    }

    /// The inputs named by `arguments` and `--files-from`: a folder gives its files with one of `extensions`
    /// (recursively, hidden ones left out, in path order); a file is taken whatever its extension.
    init(_ arguments: [String], options: BatchOptions, extensions: Set<String>, kind: String) throws {
        self.options = options
        self.kind = kind
        if let threads = options.threads { Parallel.setThreadCount(threads) }
        var listed = arguments.map { ($0, ($0 as NSString).lastPathComponent) }
        if let manifest = options.filesFrom {
            let data = manifest == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try? Data(contentsOf: URL(fileURLWithPath: manifest))
            guard let data else { throw CommandError("cannot read the list of inputs '\(manifest)'") }
            // A line that is not UTF-8 keeps its other characters (U+FFFD for the bad bytes): it names no file, so it
            // fails on its own, reported with the others.
            let text = String(decoding: data, as: UTF8.self)
            // A relative path without `..` keeps its folders under --output-dir.
            listed += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
                .map { ($0, $0.hasPrefix("/") || $0.split(separator: "/").contains("..") ? ($0 as NSString).lastPathComponent : $0) }
        }
        var found: [BatchInput] = []
        for (path, relative) in listed {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                found.append(BatchInput(path: path, relative: relative))
                continue
            }
            let inFolder = try Self.files(in: path, extensions: extensions)
            guard !inFolder.isEmpty else { throw CommandError("'\(path)' holds no \(kind) (\(extensions.sorted().joined(separator: ", ")))") }
            found += inFolder.map { BatchInput(path: (path as NSString).appendingPathComponent($0), relative: $0) }
        }
        guard !found.isEmpty else { throw CommandError("no input files given") }
        if options.outputDirectory != nil {
            var seen: [String: String] = [:]
            for input in found {
                let key = (input.relative as NSString).deletingPathExtension
                if let earlier = seen[key] {
                    throw CommandError("'\(earlier)' and '\(input.path)' would write the same output '\(key)…' under --output-dir")
                }
                seen[key] = input.path
            }
        }
        guard let shard = try options.part() else {
            inputs = found
            return
        }
        inputs = found.filter { shard.contains($0.path) }
        FileHandle.standardError.write(Data("shard \(shard.description): \(inputs.count) of \(found.count) \(kind)\n".utf8))
    }

    /// With `.each`, every audio input becomes one input per channel (a file whose header cannot be read stays one
    /// input, to fail in its turn).
    func splitting(_ channels: ChannelMode) -> Batch {
        guard channels == .each else { return self }
        let split = inputs.flatMap { input in
            let count = (try? AudioFileReader.channelCount(path: input.path)) ?? 1
            return (0..<count).map { BatchInput(path: input.path, relative: input.relative, channel: count > 1 ? $0 : nil) }
        }
        return Batch(inputs: split, options: options, kind: split.count > inputs.count ? "channels" : kind)
    }

    /// The files below `folder` with one of `extensions`, as paths relative to it, sorted.
    static func files(in folder: String, extensions: Set<String>) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { throw CommandError("cannot read the folder '\(folder)'") }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { walker.skipDescendants() }
                continue
            }
            guard extensions.contains((name as NSString).pathExtension.lowercased()),
                  walker.fileAttributes?[.type] as? FileAttributeType != .typeDirectory else { continue }
            files.append(relative)
        }
        return files.sorted()
    }

    /// Runs `work` on each input, given its output path under `--output-dir` (named with `suffix`; nil without the
    /// option). `work` returns the seconds of audio it read (0 for images), for the progress line and summary.
    /// Throws ``BatchFailures`` at the end when some input failed.
    func run(suffix: String, _ work: (BatchInput, String?) throws -> Double) throws {
        let terminal = isatty(STDERR_FILENO) != 0, start = Date()
        var done = 0, skipped = 0, failed: [String] = [], seconds = 0.0
        for (number, input) in inputs.enumerated() {
            let output = options.outputDirectory.map { input.output(in: $0, suffix: suffix) }
            if options.skipExisting, let output, FileManager.default.fileExists(atPath: output) {
                skipped += 1
                continue
            }
            if terminal && inputs.count > 1 { drawProgress(number, seconds: seconds, since: start) }
            do {
                if let output {
                    try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                seconds += try work(input, output)
                done += 1
            } catch {
                if terminal && inputs.count > 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                guard !options.strict && inputs.count > 1 else { throw error }  // one input: its error is the command's
                let message = "\(error)".split(separator: "\n").first.map(String.init) ?? "failed"
                FileHandle.standardError.write(Data((message.contains(input.path) && input.channel == nil ? message : "\(input.name): \(message)").utf8 + [10]))
                failed.append(input.name)
            }
        }
        if terminal && inputs.count > 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        // A summary ends a run that wrote a file per input, failed somewhere, or was watched on a terminal.
        if (inputs.count > 1 && (terminal || options.outputDirectory != nil)) || !failed.isEmpty {
            let elapsed = Date().timeIntervalSince(start)
            var summary = "\(done) of \(inputs.count) \(kind) done"
            if skipped > 0 { summary += ", \(skipped) skipped (output exists)" }
            if !failed.isEmpty { summary += ", \(failed.count) failed" }
            if seconds > 0 { summary += String(format: "; %@ of audio in %.1f s (%.0f× realtime)", Self.length(seconds), elapsed, seconds / max(elapsed, 1e-9)) }
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        }
        if !failed.isEmpty { throw BatchFailures(count: failed.count, total: inputs.count) }
    }

    /// A length of audio: `42.0 s`, `12.5 min` or `3.40 h`.
    static func length(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds) : seconds < 3600 ? String(format: "%.1f min", seconds / 60) : String(format: "%.2f h", seconds / 3600)
    }

    /// `[12/500] audio files, 50.4 min of audio, 310× realtime, ETA 0:42` on stderr, redrawn in place.
    func drawProgress(_ number: Int, seconds: Double, since start: Date) {
        let elapsed = Date().timeIntervalSince(start)
        var line = "[\(number)/\(inputs.count)] \(kind)"
        if seconds > 0 { line += String(format: ", %@ of audio, %.0f× realtime", Self.length(seconds), seconds / max(elapsed, 1e-9)) }
        if number > 0 {
            let remaining = Int(elapsed / Double(number) * Double(inputs.count - number))
            line += String(format: ", ETA %d:%02d", remaining / 60, remaining % 60)
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }
}

/// Some inputs of a batch failed (each reported when it did): exit status 2.
struct BatchFailures: Error, CustomStringConvertible {
    let count: Int
    let total: Int
    var description: String { "\(count) of \(total) inputs failed (each is reported above)" }
}
