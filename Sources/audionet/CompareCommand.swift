import ArgumentParser
import AudioNet
import Foundation

/// `audionet compare [--models A,B…] [--batch-sizes 1,32] [--runs 3] [--format table|json] [--plot C.png]`.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Time every image classifier on this machine and set it beside its published ImageNet accuracy (MATLAB's chart).",
        discussion: """
        Each network runs on random images at each batch size: one warm-up, then the median of --runs. Times are per \
        batch in milliseconds and per image relative to the fastest network (at the first batch size). Networks are \
        built from their layer tables, so no weights are needed (ShuffleNet's architecture is its ONNX file). The \
        accuracies are the figures published for the weights AudioNet loads, each with its source (json). --plot draws \
        accuracy against relative time, each network a disc whose area is proportional to its parameters. JSON is one \
        object per network per line.
        """
    )

    @Option(help: ArgumentHelp("Networks to time, comma-separated (default: every image classifier).", valueName: "A,B,…"),
            completion: .list(NetworkComparison.candidates))
    var models: String?

    @Option(name: .customLong("batch-sizes"), help: ArgumentHelp("Batch sizes, comma-separated; the first is the chart's.", valueName: "1,32"))
    var batchSizes: String = "1,32"

    @Option(help: "Timed runs per batch size (after one warm-up); the median is reported.")
    var runs: Int = 3

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "Draw the chart as a .png or .svg.")
    var plot: String?

    @Option(help: ArgumentHelp("Threads for the networks (default: $AUDIONET_THREADS, else every core).", valueName: "N"))
    var threads: Int?

    var sizes: [Int] { batchSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !sizes.isEmpty, sizes.count == batchSizes.split(separator: ",").count, sizes.allSatisfy({ (1...1024).contains($0) }) else {
            throw CommandError("--batch-sizes takes whole numbers within 1…1024, comma-separated (e.g. 1,32)")
        }
        guard (1...100).contains(runs) else { throw CommandError("--runs must be within 1…100") }
        guard threads.map({ $0 > 0 && $0 <= 4096 }) ?? true else { throw CommandError("--threads must be within 1…4096") }
        if let plot { _ = try Canvas.format(of: plot) }
    }

    func run() throws {
        let names = models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? NetworkComparison.candidates
        if let unknown = names.first(where: { !NetworkComparison.candidates.contains($0) }) {
            throw CommandError("'\(unknown)' is not an image classifier AudioNet builds (choose from: \(NetworkComparison.candidates.joined(separator: ", ")))")
        }
        if let plot { try OutputFile.checkDistinct(outputs: [plot], inputs: []) }
        if let threads { Parallel.setThreadCount(threads) }
        let terminal = isatty(STDERR_FILENO) != 0
        var timings: [NetworkTiming] = []
        for (number, name) in names.enumerated() {
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K[\(number + 1)/\(names.count)] \(name)".utf8)) }
            do {
                timings.append(try NetworkComparison.time(name, batchSizes: sizes, runs: runs))
            } catch {
                FileHandle.standardError.write(Data("\(terminal ? "\r\u{1B}[K" : "")\(name): not timed: \("\(error)".split(separator: "\n").first ?? "")\n".utf8))
            }
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        guard !timings.isEmpty else { throw CommandError("no network could be timed") }
        let first = sizes[0], fastest = timings.compactMap { $0.seconds[first] }.min()!
        switch format {
        case .json:
            for timing in timings {
                print(JSONValue.object([
                    ("model", .string(timing.name)), ("parametersMillions", .number(timing.parametersMillions)),
                    ("top1", timing.top1.map { .number($0) } ?? .null), ("source", timing.source.map { .string($0) } ?? .null),
                    ("milliseconds", .object(sizes.map { (String($0), .number(timing.seconds[$0]! * 1000)) })),
                    ("relative", .number(timing.seconds[first]! / fastest)),
                ]).encoded)
            }
        case .table, .csv:
            let header = ["model", "top-1 %", "params M"] + sizes.map { "ms (batch \($0))" } + ["relative"]
            printTable(header: header, rows: timings.map { timing in
                [timing.name, timing.top1.map { String(format: "%.1f", $0) } ?? "–", String(format: "%.1f", timing.parametersMillions)]
                    + sizes.map { String(format: "%.1f", timing.seconds[$0]! * 1000) } + [String(format: "%.2f", timing.seconds[first]! / fastest)]
            })
        }
        if let plot {
            try NetworkComparison.plot(timings, batchSize: first, title: "ImageNet classifiers on this machine (\(Parallel.threadCount) threads)",
                                       format: Canvas.format(of: plot)).write(to: plot)
        }
    }
}
