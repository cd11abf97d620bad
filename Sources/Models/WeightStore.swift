import Foundation

/// Errors raised while locating weight files.
public enum WeightError: Error, CustomStringConvertible, Equatable {
    case missing(file: String, searched: [String], fetchCommand: String)
    case unknown(file: String)

    public var description: String {
        switch self {
        case .missing(let file, let searched, let fetch):
            return "weight file '\(file)' not found (looked in: \(searched.joined(separator: ", "))); fetch it with: \(fetch)"
        case .unknown(let file):
            return "'\(file)' is not in the weight manifest"
        }
    }
}

/// Finds weight files in the places DESIGN.md lists, in order: an explicit path, `$AUDIONET_WEIGHTS`,
/// the default cache, then the mirror folder `$AUDIONET_WEIGHTS_MIRROR` (laid out like `shared/models`).
public struct WeightStore: Sendable {
    /// `$AUDIONET_WEIGHTS`, when set.
    public var userDirectory: String?
    /// The default cache: the checkout's `Weights/` folder when the tool runs from a checkout, else
    /// `$XDG_CACHE_HOME/audionet` (or `~/.cache/audionet`).
    public var cacheDirectory: String
    /// `$AUDIONET_WEIGHTS_MIRROR`, when set.
    public var mirrorDirectory: String?

    public init(userDirectory: String?, cacheDirectory: String, mirrorDirectory: String?) {
        self.userDirectory = userDirectory
        self.cacheDirectory = cacheDirectory
        self.mirrorDirectory = mirrorDirectory
    }

    /// The store configured from the environment.
    public static func fromEnvironment() -> WeightStore {
        let environment = ProcessInfo.processInfo.environment
        return WeightStore(userDirectory: environment["AUDIONET_WEIGHTS"].flatMap { $0.isEmpty ? nil : $0 },
                           cacheDirectory: defaultCache(environment: environment),
                           mirrorDirectory: environment["AUDIONET_WEIGHTS_MIRROR"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Directories searched, in order.
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

    /// The path of `file`: `explicit` when given, else the first directory that has it.
    /// - Throws: ``WeightError/missing(file:searched:fetchCommand:)`` naming where it looked and how to fetch it.
    public func locate(_ file: String, explicit: String? = nil) throws -> String {
        if let explicit {
            guard FileManager.default.isReadableFile(atPath: explicit) else {
                throw WeightError.missing(file: explicit, searched: [explicit], fetchCommand: "audionet weights fetch \(file)")
            }
            return explicit
        }
        if let path = find(file) { return path }
        let searched = searchDirectories + (mirrorDirectory == nil ? ["$AUDIONET_WEIGHTS_MIRROR (unset)"] : [])
        throw WeightError.missing(file: file, searched: searched, fetchCommand: "audionet weights fetch \(file)")
    }

    /// The checkout's `Weights/` when the executable lives under a checkout's `.build*` folder, else the user cache.
    static func defaultCache(environment: [String: String]) -> String {
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
        let base = environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? NSTemporaryDirectory()) + "/.cache")
        return base + "/audionet"
    }
}
