import Foundation

/// Labelled audio files for training and evaluation: a folder of class folders (the folder name is the label, as
/// MATLAB's `audioDatastore(…, LabelSource="foldernames")` and Keras's `audio_dataset_from_directory`), or a CSV
/// manifest of `path,label` rows (quoted fields may hold commas; paths are relative to the manifest's folder).
public struct LabeledFiles: Sendable, Equatable {
    /// Class names, sorted; a label is an index into them.
    public let classes: [String]
    public let paths: [String]
    public let labels: [Int]

    /// File extensions read as audio in class folders.
    /// The files a class folder contributes: audio, and images (for image backbones).
    static let mediaExtensions: Set<String> = ["wav", "flac", "ogg", "oga", "aif", "aiff", "mp3", "png", "jpg", "jpeg", "bmp"]

    public init(classes: [String], paths: [String], labels: [Int]) {
        precondition(paths.count == labels.count && labels.allSatisfy { classes.indices.contains($0) })
        self.classes = classes
        self.paths = paths
        self.labels = labels
    }

    /// Reads a class-folder tree or, for a `.csv` path, a manifest.
    public init(contentsOf path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw DatasetError.notFound(path) }
        let (paths, names) = isFolder.boolValue ? try Self.folderItems(path) : try Self.manifestItems(path)
        let classes = Array(Set(names)).sorted()
        guard classes.count >= 2 else { throw DatasetError.tooFewClasses(path, classes) }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        self.init(classes: classes, paths: paths, labels: names.map { index[$0]! })
    }

    /// `root/<class>/<file>` for every audio or image file; a class folder without any is an error.
    static func folderItems(_ root: String) throws -> ([String], [String]) {
        let manager = FileManager.default
        let folders = try manager.contentsOfDirectory(atPath: root).filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".") && manager.fileExists(atPath: "\(root)/\(name)", isDirectory: &isFolder) && isFolder.boolValue
        }.sorted()
        var paths: [String] = [], names: [String] = []
        for folder in folders {
            let files = try manager.contentsOfDirectory(atPath: "\(root)/\(folder)").filter {
                !$0.hasPrefix(".") && mediaExtensions.contains(($0 as NSString).pathExtension.lowercased())
            }.sorted()
            guard !files.isEmpty else { throw DatasetError.emptyClass(folder) }
            paths += files.map { "\(root)/\(folder)/\($0)" }
            names += files.map { _ in folder }
        }
        return (paths, names)
    }

    /// `path,label` rows (a `path,label` header is skipped); every path must exist.
    static func manifestItems(_ manifest: String) throws -> ([String], [String]) {
        let text: String
        do { text = try String(contentsOfFile: manifest, encoding: .utf8) } catch { throw DatasetError.unreadable(manifest) }
        let folder = (manifest as NSString).deletingLastPathComponent
        var paths: [String] = [], names: [String] = []
        for (number, row) in CSV.rows(text).enumerated() where !(row.count == 1 && row[0].isEmpty) {
            if number == 0 && row.map({ $0.lowercased() }) == ["path", "label"] { continue }
            guard row.count == 2, !row[0].isEmpty, !row[1].isEmpty else { throw DatasetError.badRow(manifest, line: number + 1) }
            let path = row[0].hasPrefix("/") || folder.isEmpty ? row[0] : "\(folder)/\(row[0])"
            guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.missingFile(manifest, line: number + 1, path: path) }
            paths.append(path)
            names.append(row[1])
        }
        return (paths, names)
    }

    /// The files at `indices`, with the same classes.
    public func subset(_ indices: [Int]) -> LabeledFiles {
        LabeledFiles(classes: classes, paths: indices.map { paths[$0] }, labels: indices.map { labels[$0] })
    }

    /// A stratified split: `fraction` of each class (when above 0, at least one file of every class with two or more) for
    /// validation, chosen by a generator seeded with `seed`.
    public func split(validationFraction fraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        var generator = SplitMix64(seed: seed)
        var train: [Int] = [], validation: [Int] = []
        for label in classes.indices {
            let members = labels.indices.filter { labels[$0] == label }.shuffled(using: &generator)
            let count = members.count < 2 || fraction <= 0 ? 0 : max(1, Int((Double(members.count) * fraction).rounded()))
            validation += members.prefix(count)
            train += members.dropFirst(count)
        }
        return (train.sorted(), validation.sorted())
    }
}

/// Why a dataset cannot be used; one line each.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case unreadable(String)
    case tooFewClasses(String, [String])
    case emptyClass(String)
    case badRow(String, line: Int)
    case missingFile(String, line: Int, path: String)

    public var description: String {
        switch self {
        case .notFound(let path): return "no dataset at '\(path)' (give a folder of class folders or a path,label CSV)"
        case .unreadable(let path): return "cannot read '\(path)' as UTF-8 text"
        case .tooFewClasses(let path, let classes):
            return "'\(path)' has \(classes.count) class\(classes.count == 1 ? "" : "es")\(classes.isEmpty ? "" : " (\(classes.joined(separator: ", ")))"); training needs at least two"
        case .emptyClass(let name): return "class folder '\(name)' has no audio or image files"
        case .badRow(let path, let line): return "\(path):\(line): expected two fields, path,label"
        case .missingFile(let path, let line, let file): return "\(path):\(line): no file '\(file)'"
        }
    }
}

/// RFC 4180 rows: comma-separated fields, double-quoted where they hold commas, quotes or line breaks.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, justClosed = false
        for c in text {
            if quoted {
                if c == "\"" { quoted = false; justClosed = true } else { field.append(c) }
                continue
            }
            switch c {
            case "\"": if justClosed { field.append("\"") }; quoted = true  // "" within quotes is one quote
            case ",": row.append(field); field = ""
            case "\n", "\r\n": row.append(field); rows.append(row); row = []; field = ""
            case "\r": break
            default: field.append(c)
            }
            justClosed = false
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
