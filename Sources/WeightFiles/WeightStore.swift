import Foundation

/// Errors raised while locating weight files.
public enum WeightError: Error, CustomStringConvertible, Equatable {
    /// `place`: where the file may be put by hand (the fetch directory's path for it); `offline`: why it was not fetched;
    /// `failure`: why fetching it on first use failed.
    case missing(file: String, searched: [String], fetchCommand: String, place: String? = nil, offline: Bool = false, failure: String? = nil)
    case unknown(file: String)
    case checksumMismatch(file: String, path: String, expected: String, actual: String)
    case noCache

    public var description: String {
        switch self {
        case .missing(let file, let searched, let fetch, let place, let offline, let failure):
            return "weight file '\(file)' not found (looked in: \(searched.joined(separator: ", ")))"
                + (offline ? "; offline ($AUDIONET_OFFLINE or --offline), so not fetched" : "")
                + (failure.map { "; fetching it failed (\($0))" } ?? "")
                + "; fetch it with: \(fetch)" + (place.map { ", or place it at \($0)" } ?? "")
        case .unknown(let file):
            return "'\(file)' is not in the weight manifest"
        case .checksumMismatch(let file, let path, let expected, let actual):
            return "'\(path)' is not the manifest's \(file) (SHA-256 \(actual.prefix(12))…, expected \(expected.prefix(12))…); "
                + "replace it with: audionet weights fetch --force \(file)"
        case .noCache:
            return "no weight cache: neither $XDG_CACHE_HOME nor $HOME is set; set $AUDIONET_WEIGHTS to a folder or pass --weights"
        }
    }
}

/// Finds weight files in the places DESIGN.md lists, in order: an explicit path, `$AUDIONET_WEIGHTS`,
/// the default cache, then the mirror folder `$AUDIONET_WEIGHTS_MIRROR` (laid out like `shared/models`).
///
/// A file found in any of these folders is checked against the manifest's SHA-256 before its first use after
/// it changed; an explicit `--weights` file is the user's own and is not.
public struct WeightStore: Sendable {
    /// `$AUDIONET_WEIGHTS`, when set: searched first, and where `weights fetch` puts files.
    public var userDirectory: String?
    /// The default cache: the checkout's `Weights/` folder when the tool runs from a checkout, else
    /// `$XDG_CACHE_HOME/audionet`, else `$HOME/.cache/audionet`; nil without any of them.
    public var cacheDirectory: String?
    /// `$AUDIONET_WEIGHTS_MIRROR`, when set.
    public var mirrorDirectory: String?
    /// Whether ``locate(_:explicit:)`` fetches a missing file with a public source (into ``fetchDirectory``) instead
    /// of failing: on unless `$AUDIONET_OFFLINE` is set (1, true, yes).
    public var fetchesMissing = false

    /// Where `weights fetch` writes: `$AUDIONET_WEIGHTS`, else the default cache.
    public var fetchDirectory: String? { userDirectory ?? cacheDirectory }

    public init(userDirectory: String?, cacheDirectory: String?, mirrorDirectory: String?) {
        self.userDirectory = userDirectory
        self.cacheDirectory = cacheDirectory
        self.mirrorDirectory = mirrorDirectory
    }

    /// The store configured from the environment.
    public static func fromEnvironment() -> WeightStore {
        let environment = ProcessInfo.processInfo.environment
        var store = WeightStore(userDirectory: environment["AUDIONET_WEIGHTS"].flatMap { $0.isEmpty ? nil : $0 },
                                cacheDirectory: defaultCache(environment: environment),
                                mirrorDirectory: environment["AUDIONET_WEIGHTS_MIRROR"].flatMap { $0.isEmpty ? nil : $0 })
        store.fetchesMissing = !isOffline(environment)
        return store
    }

    /// Whether `$AUDIONET_OFFLINE` asks for no downloads.
    public static func isOffline(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["1", "true", "yes"].contains(environment["AUDIONET_OFFLINE"]?.lowercased() ?? "")
    }

    /// Directories searched, in order. Next to a mirror laid out like `shared/models`, its sibling `data/`
    /// (where `shared` keeps the AudioSet ontology) is searched too.
    public var searchDirectories: [String] {
        let mirrorData = mirrorDirectory.map { ($0 as NSString).deletingLastPathComponent + "/data" }
        return [userDirectory, cacheDirectory, mirrorDirectory, mirrorData].compactMap { $0 }
    }

    /// The path of manifest file `file`, or nil when none of the directories has it.
    public func find(_ file: String) -> String? {
        for directory in searchDirectories {
            let candidate = (directory as NSString).appendingPathComponent(file)
            if FileManager.default.isReadableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The path of `file`: `explicit` when given, else the first directory that has it, checked against the
    /// file's SHA-256 when it has one (see ``WeightStore``).
    /// - Throws: ``WeightError/missing(file:searched:fetchCommand:)`` naming where it looked and how to fetch it;
    ///   ``WeightError/checksumMismatch(file:path:expected:actual:)`` for a file that is not the one described.
    public func locate(_ weightFile: WeightFile, explicit: String? = nil) throws -> String {
        let file = weightFile.path
        if let explicit {
            guard FileManager.default.isReadableFile(atPath: explicit) else {
                throw WeightError.missing(file: explicit, searched: [explicit], fetchCommand: "audionet weights fetch \(file)")
            }
            return explicit
        }
        if let path = find(file) {
            if let expected = weightFile.sha256 { try verification.check(file, at: path, expected: expected) }
            return path
        }
        let fetchable: Bool
        if case .mirrorOnly = weightFile.source { fetchable = false } else { fetchable = true }
        if fetchesMissing, fetchable, fetchDirectory != nil {
            // A note and the download's progress on a terminal, as other progress; a failure stays one line elsewhere.
            let terminal = isatty(STDERR_FILENO) != 0
            if terminal {
                let size = weightFile.size.map { String(format: ", %.1f MB", Double($0) / 1e6) } ?? ""
                FileHandle.standardError.write(Data("audionet: first use of \(file)\(size): fetching it into \(fetchDirectory!) (once; AUDIONET_OFFLINE=1 or --offline prevents this)\n".utf8))
            }
            do {
                return try WeightFetcher.fetch(weightFile, store: self, showProgress: terminal)
            } catch let failure as FetchError {
                throw WeightError.missing(file: file, searched: searchDirectories, fetchCommand: "audionet weights fetch \(file)",
                                          place: fetchDirectory.map { ($0 as NSString).appendingPathComponent(file) }, failure: failure.description)
            }
        }
        let searched = searchDirectories + (mirrorDirectory == nil ? ["$AUDIONET_WEIGHTS_MIRROR (unset)"] : [])
        throw WeightError.missing(file: file, searched: searched, fetchCommand: "audionet weights fetch \(file)",
                                  place: fetchDirectory.map { ($0 as NSString).appendingPathComponent(file) }, offline: fetchable && !fetchesMissing)
    }

    /// Verification records kept in the fetch directory, when there is one.
    var verification: WeightVerification {
        WeightVerification(recordFile: fetchDirectory.map { ($0 as NSString).appendingPathComponent(".verified") })
    }

    /// The checkout's `Weights/` when the executable lives under a checkout's `.build*` folder, else ``userCache(environment:)``.
    static func defaultCache(environment: [String: String]) -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            if directory.lastPathComponent.hasPrefix(".build") {
                let checkout = directory.deletingLastPathComponent()
                if FileManager.default.fileExists(atPath: checkout.appendingPathComponent("Package.swift").path) {
                    return checkout.appendingPathComponent("Weights").path
                }
            }
            directory.deleteLastPathComponent()
        }
        return userCache(environment: environment)
    }

    /// The user's cache, as the XDG base-directory specification places it: `$XDG_CACHE_HOME/audionet`, else
    /// `$HOME/.cache/audionet` (relative paths are ignored, as the specification asks); nil without either, so
    /// that a shared place such as /tmp, where another user could plant files, is never used.
    public static func userCache(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/audionet" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.cache/audionet" }
        return nil
    }
}
