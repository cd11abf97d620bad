import Foundation
import Testing

/// Paths and helpers shared by the test targets.
public enum TestSupport {
    /// The repository root (two levels above this file).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Absolute path of a file under `Tests/Fixtures/`.
    public static func fixture(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    /// Absolute path of a file `make generated-fixtures` writes under `.build/generated-fixtures/` (fixtures too large to
    /// commit), or nil, recorded as a failure naming the command, when it has not been made.
    public static func generatedFixture(_ relative: String) -> String? {
        let path = repositoryRoot.appendingPathComponent(".build/generated-fixtures").appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(path) is missing, so this cannot be checked: run `make generated-fixtures`")
            return nil
        }
        return path
    }

    /// This test process's folder under the system temporary directory, removed when the process exits (the tests
    /// write tens of megabytes of audio; left behind, every run added them to /tmp).
    static let processDirectory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("audionet-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: url)
        atexit { try? FileManager.default.removeItem(at: TestSupport.processDirectory) }
        return url
    }()

    /// A new empty directory in this test process's temporary folder.
    public static func temporaryDirectory() -> URL {
        let url = processDirectory.appendingPathComponent(UUID().uuidString)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Largest absolute element-wise difference; infinity when the counts differ or one side alone is NaN.
    public static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        // A NaN on one side only is an infinite difference (`max` would drop it: every comparison with NaN is false).
        return zip(a, b).reduce(0) { largest, pair in
            if pair.0.isNaN || pair.1.isNaN { return pair.0.isNaN && pair.1.isNaN ? largest : .infinity }
            return max(largest, abs(pair.0 - pair.1))
        }
    }

    /// A sine of `frequency` Hz and `amplitude`, `seconds` long at `sampleRate`.
    public static func sine(frequency: Double, amplitude: Double = 0.5, seconds: Double, sampleRate: Int) -> [Float] {
        (0..<Int(seconds * Double(sampleRate))).map {
            Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate)))
        }
    }

    /// Root mean square of `samples`.
    public static func rms<C: Collection>(_ samples: C) -> Double where C.Element == Float {
        (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
    }

    /// Whether two command outputs agree: the same text around the numbers, and numbers within `tolerance`
    /// relative (at least `absolute` apart allowed, for printed digits).
    public static func agree(_ a: String, _ b: String, tolerance: Double, absolute: Double = 1e-6) -> Bool {
        let number = /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/
        func split(_ text: String) -> (String, [Double]) {
            (text.replacing(number, with: "#"), text.matches(of: number).map { Double(text[$0.range])! })
        }
        let (textA, numbersA) = split(a), (textB, numbersB) = split(b)
        return textA == textB && zip(numbersA, numbersB).allSatisfy { u, v in u == v || abs(u - v) <= tolerance * max(1, abs(u), abs(v)) + absolute }
    }

    /// Result of running the `audionet` executable.
    public struct CommandResult {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `audionet` executable built next to the test bundle.
    public static var executable: URL {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL]
        for directory in candidates {
            let url = directory.appendingPathComponent("audionet")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        fatalError("audionet executable not found next to the tests (build it first: swift build --build-tests)")
    }

    /// Runs `audionet` with `arguments` and extra environment, capturing its output (stdout goes to
    /// `standardOutput` instead when given). `memoryLimit` runs it under `prlimit --as` (bytes); `wrapper`
    /// runs it under another program (an emulator) with the wrapper's own arguments first; `directory` is its
    /// working directory. Its user cache (`$XDG_CACHE_HOME`: embeddings) is this test process's temporary folder,
    /// so tests never write to the user's own.
    public static func run(_ arguments: [String], environment: [String: String] = [:], standardOutput: FileHandle? = nil,
                           memoryLimit: Int? = nil, wrapper: [String] = [], program: URL? = nil, directory: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.currentDirectoryURL = directory
        var command = wrapper + [(program ?? executable).path] + arguments
        if let memoryLimit { command = ["/usr/bin/prlimit", "--as=\(memoryLimit)"] + command }
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": processDirectory.appendingPathComponent("cache").path]) { $1 }
            .merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = standardOutput ?? out
        process.standardError = err
        try process.run()
        if standardOutput != nil { try out.fileHandleForWriting.close() }
        // Both pipes drained at once: with standard error read only after standard output's end, a child that wrote
        // more than a pipe holds (64 KB) to standard error — the progress of an emulated test run — waited for this
        // process, which waited for it.
        let errors = PipeDrain(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.contents
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A pipe read to its end on a thread of its own, so that its writer never waits for the reader.
private final class PipeDrain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    /// Everything written to the pipe, once every writer has closed it.
    var contents: Data {
        done.wait()
        return data
    }
}
