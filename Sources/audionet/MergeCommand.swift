import ArgumentParser
import AudioNet
import Foundation

/// `audionet merge PART.jsonl… --files-from LIST [--input FILE|FOLDER…]`: the JSON Lines of a sharded run's parts
/// as one run over every input would have printed them.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the JSON Lines outputs of a sharded run (--shard) in the inputs' order, checking that every input is there once.",
        discussion: """
        The inputs are given as to the sharded command (--files-from LIST, --input FILE|FOLDER). Each line of a part \
        is one object with a "file" key (classify, image classify and pitch with --format json); a file read channel \
        by channel ("FILE (channel 2)") counts as FILE. The merged lines go to standard output in the inputs' order, \
        each file's lines in their own order: what one process over all the inputs prints. An input with no line, a \
        file named twice, or a line for a file that is not an input is an error, and nothing is printed.
        """
    )

    @Argument(help: "The parts: each shard's standard output (JSON Lines).")
    var parts: [String] = []

    @Option(name: .customLong("files-from"), help: ArgumentHelp("The list of inputs the shards were given ('-': standard input).", valueName: "LIST"))
    var filesFrom: String?

    @Option(name: .customLong("input"), help: ArgumentHelp("An input file or folder the shards were given (repeatable).", valueName: "PATH"))
    var inputs: [String] = []

    func validate() throws {
        guard !parts.isEmpty else { throw CommandError("give the parts to merge (each shard's JSON Lines output)") }
        guard filesFrom != nil || !inputs.isEmpty else { throw CommandError("give the inputs the shards were given: --files-from LIST or --input PATH") }
    }

    func run() throws {
        var options = try BatchOptions.parse([])
        options.filesFrom = filesFrom
        let expected = try Batch(inputs, options: options, extensions: Batch.audioExtensions.union(Batch.imageExtensions), kind: "inputs").inputs.map(\.path)
        let named = parts.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let twice = named.indices.first(where: { named[..<$0].contains(named[$0]) }) { throw CommandError("the part '\(parts[twice])' is given twice") }
        do {
            try OutputFile.checkDistinct(outputs: ["/dev/stdout"], inputs: parts + [filesFrom].compactMap { $0 })
        } catch {
            throw CommandError("standard output is one of the merge's own files (\(error)); redirect it elsewhere")
        }
        let order = Dictionary(expected.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        // Parts are mapped, not read: what is kept of a line is where it is (a corpus's parts can be gigabytes).
        let texts = try parts.map { part in
            do { return try Data(contentsOf: URL(fileURLWithPath: part), options: .alwaysMapped) } catch {
                throw CommandError("cannot read the part '\(part)'")
            }
        }
        var lines = [[(part: Int, bytes: Range<Int>)]](repeating: [], count: expected.count)
        var seen: [String: (part: Int, line: Int)] = [:]  // a line's "file" → where it was first read
        for (partIndex, text) in texts.enumerated() {
            var start = 0, number = 0
            while start < text.count {
                let end = text[start...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
                defer { start = end + 1 }
                number += 1
                guard end > start else { continue }
                let place = "\(parts[partIndex]) line \(number)"
                guard let object = try? JSONSerialization.jsonObject(with: text.subdata(in: start..<end)) as? [String: Any],
                      let file = object["file"] as? String else {
                    throw CommandError("\(place) is not a JSON object with a \"file\" (merge reads --format json outputs)")
                }
                if let earlier = seen[file] { throw CommandError("'\(file)' appears twice: \(parts[earlier.part]) line \(earlier.line) and \(place)") }
                seen[file] = (partIndex, number)
                guard let index = order[file] ?? Self.channelOf(file).flatMap({ order[$0] }) else {
                    throw CommandError("'\(file)' (\(place)) is not one of the inputs")
                }
                lines[index].append((partIndex, start..<end))
            }
        }
        let missing = expected.indices.filter { lines[$0].isEmpty }
        guard missing.isEmpty else {
            let named = missing.prefix(3).map { "'\(expected[$0])'" }.joined(separator: ", ") + (missing.count > 3 ? ", …" : "")
            throw CommandError("\(missing.count) of \(expected.count) inputs have no line in the parts: \(named)")
        }
        for list in lines { for line in list { print(String(decoding: texts[line.part][line.bytes], as: UTF8.self)) } }
    }

    /// The file of a channel's name, `FILE (channel 2)` → `FILE`.
    static func channelOf(_ name: String) -> String? {
        guard name.hasSuffix(")"), let open = name.range(of: " (channel ", options: .backwards),
              Int(name[open.upperBound..<name.index(before: name.endIndex)]) != nil else { return nil }
        return String(name[..<open.lowerBound])
    }
}
