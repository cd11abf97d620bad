import Foundation
import WeightFiles

/// An image classifier's class names in output order, read from its label file.
public struct ImageLabels: Sendable {
    /// How the label file names the classes.
    public enum Layout: Sendable {
        /// One name per line; only the first `count` lines are classes (nil: all; Darknet's 1000 are the start of a
        /// 21,842-line list).
        case lines(count: Int?)
        /// `/a/airfield 0` per line (Places365's `categories_places365.txt`): the name is the path after its initial
        /// letter, the number its index.
        case indexedPaths
        /// One WordNet synset ID per line (`n01440764`), named by the `ID<TAB>names` lines of `names`.
        case synsets(names: WeightFile)
    }

    public let file: WeightFile
    public let layout: Layout
    /// Whether output 0 is a `background` class the file does not list (TF Lite's 1001-class MobileNets).
    public let background: Bool

    public init(file: WeightFile, layout: Layout = .lines(count: nil), background: Bool = false) {
        self.file = file
        self.layout = layout
        self.background = background
    }

    /// Every file the names are read from.
    public var files: [WeightFile] {
        if case .synsets(let names) = layout { return [file, names] }
        return [file]
    }

    /// The class names, from the files found through `store`.
    public func names(store: WeightStore) throws -> [String] {
        var names: [String]
        let path = try store.locate(file)
        let lines = try Self.lines(at: path)
        switch layout {
        case .lines(let count):
            names = lines.prefix(count ?? .max).map(String.init)
        case .indexedPaths:
            names = try lines.enumerated().map { number, line in
                let fields = line.split(separator: " ")
                guard fields.count == 2, Int(fields[1]) == number, fields[0].hasPrefix("/"), fields[0].count > 3 else {
                    throw LabelFileError.malformed(path: path, reason: "line \(number + 1) is not '/a/name \(number)'")
                }
                return String(fields[0].dropFirst(3))
            }
        case .synsets(let table):
            let tablePath = try store.locate(table)
            var lemmas: [Substring: String] = [:]
            for (number, line) in try Self.lines(at: tablePath).enumerated() {
                guard let tab = line.firstIndex(of: "\t") else {
                    throw LabelFileError.malformed(path: tablePath, reason: "line \(number + 1) is not 'ID<TAB>names'")
                }
                lemmas[line[..<tab]] = String(line[line.index(after: tab)...])
            }
            names = try lines.enumerated().map { number, synset in
                guard let name = lemmas[synset] else {
                    throw LabelFileError.malformed(path: path, reason: "line \(number + 1): synset '\(synset)' is not in \(tablePath)")
                }
                return name
            }
        }
        return background ? ["background"] + names : names
    }

    static func lines(at path: String) throws -> [Substring] {
        try LabelFileError.text(at: path).split(whereSeparator: \.isNewline)
    }
}

/// A second name for each class, from a file of `/a/airfield 2` lines in class order (Places365's `IO_places365.txt`:
/// 1 indoor, 2 outdoor), printed as a column titled `title`.
public struct ClassGroups: Sendable {
    public let file: WeightFile
    public let title: String
    /// The group of each number in the file.
    public let names: [Int: String]

    public init(file: WeightFile, title: String, names: [Int: String]) {
        self.file = file
        self.title = title
        self.names = names
    }

    /// Each class's group, read from the file found through `store`, whose lines must name the classes of `labels`
    /// in order.
    public func groups(store: WeightStore, labels: [String]) throws -> [String] {
        let path = try store.locate(file)
        let lines = try ImageLabels.lines(at: path)
        guard lines.count == labels.count else { throw LabelFileError.malformed(path: path, reason: "it has \(lines.count) lines for \(labels.count) classes") }
        return try zip(lines, labels).enumerated().map { number, pair in
            let fields = pair.0.split(separator: " ")
            guard fields.count == 2, fields[0].dropFirst(3) == pair.1, let value = Int(fields[1]), let name = names[value] else {
                throw LabelFileError.malformed(path: path, reason: "line \(number + 1) is not '/a/\(pair.1) N' with N one of \(names.keys.sorted())")
            }
            return name
        }
    }
}
