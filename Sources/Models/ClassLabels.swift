import Foundation

/// Errors reading label and ontology files; each description is one line.
public enum LabelFileError: Error, CustomStringConvertible, Equatable {
    case malformed(path: String, reason: String)
    /// The file is missing or not UTF-8 text.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let path, let reason): return "malformed label file '\(path)': \(reason)"
        case .unreadable(let path, let reason): return "cannot read the label file '\(path)': \(reason)"
        }
    }

    /// The text of the label file at `path`.
    /// - Throws: ``unreadable(path:reason:)`` when there is no such file, it is a directory, or it is not UTF-8 text.
    public static func text(at path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            var directory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &directory)
            throw unreadable(path: path, reason: !exists ? "no such file" : directory.boolValue ? "it is a directory" : "it is not UTF-8 text")
        }
        return text
    }
}

/// AudioSet class labels from `yamnet_class_map.csv` (`index,mid,display_name`).
public struct ClassLabels: Sendable {
    /// AudioSet machine identifiers (`/m/09x0r`), by class index.
    public let mids: [String]
    /// Display names (`Speech`), by class index.
    public let names: [String]

    /// Labels without AudioSet identifiers (a trained model's classes): no ontology applies to them.
    public init(names: [String]) {
        self.names = names
        mids = names.map { _ in "" }
    }

    /// Reads and checks a class map: a header, then one row per class in index order.
    public init(classMapCSV path: String) throws {
        let text = try LabelFileError.text(at: path)
        var mids: [String] = [], names: [String] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated().dropFirst() {
            let fields = ClassLabels.csvFields(String(line))
            guard fields.count == 3, Int(fields[0]) == number - 1 else {
                throw LabelFileError.malformed(path: path, reason: "line \(number + 1) is not 'index,mid,display_name'")
            }
            mids.append(fields[1])
            names.append(fields[2])
        }
        self.mids = mids
        self.names = names
    }

    /// Splits one CSV line, honouring double quotes (`1,/m/0ytgt,"Child speech, kid speaking"`).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\"" where quoted:
                // A doubled quote inside quotes is a literal quote.
                if let next = iterator.next() {
                    if next == "\"" { current.append("\"") } else if next == "," { quoted = false; fields.append(current); current = "" } else { quoted = false; current.append(next) }
                } else {
                    quoted = false
                }
            case "\"" where current.isEmpty: quoted = true
            case "," where !quoted: fields.append(current); current = ""
            default: current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
