import ArgumentParser
import Foundation
import AudioNet

/// Output formats shared by the listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv

    /// `jsonl` is `json`: JSON output is one object per line already.
    init?(argument: String) { self.init(rawValue: argument == "jsonl" ? "json" : argument) }
}

/// `audionet models [--format table|json]`.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the network catalog: task, depth, size, parameters, input size, whether AudioNet builds it, whether weights are present."
    )

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() throws {
        let store = WeightStore.fromEnvironment()
        let rows = Networks.all.map { entry in
            (entry, !entry.files.isEmpty && entry.files.allSatisfy { store.find($0.path) != nil })
        }
        switch format {
        case .json:
            for (entry, present) in rows {
                let object: [String: Any] = [
                    "name": entry.name, "task": entry.task.rawValue, "depth": entry.depth as Any,
                    "sizeMB": entry.sizeMB, "parametersMillions": entry.parametersMillions,
                    "inputSize": entry.inputSize, "weightsPresent": present, "built": entry.load != nil,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        case .table, .csv:
            let header = ["name", "task", "depth", "size (MB)", "parameters (M)", "input", "built", "weights"]
            let body = rows.map { entry, present in
                [entry.name, entry.task.rawValue, entry.depth.map(String.init) ?? "—",
                 String(format: "%.1f", entry.sizeMB), String(format: "%.2f", entry.parametersMillions),
                 entry.inputDescription, entry.load != nil ? "yes" : "no", present ? "present" : "missing"]
            }
            if format == .csv {
                for row in [header] + body { print(row.joined(separator: ",")) }
            } else {
                printTable(header: header, rows: body)
            }
        }
    }
}

/// Prints rows as left-aligned columns separated by two spaces.
func printTable(header: [String], rows: [[String]]) {
    print(tableText(header: header, rows: rows), terminator: "")
}

/// Columns padded to their widest cell, two spaces apart, one line per row (the header first).
func tableText(header: [String], rows: [[String]]) -> String {
    let widths = header.indices.map { column in
        ([header] + rows).map { $0[column].count }.max() ?? 0
    }
    return ([header] + rows).map { row in
        let cells = row.enumerated().map { column, cell in
            cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }
        return cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
    }.joined()
}
