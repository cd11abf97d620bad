import ArgumentParser
import AudioNet
import Foundation

/// `audionet evaluate DATASET --model MODEL.audionet [--format table|json] [--plot C.png]`.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a trained classifier on a labelled dataset: accuracy, per-class precision/recall/F1, macro F1, confusion.",
        discussion: "JSON keys: accuracy, macroF1, perClass, confusion (rows: true class, columns: predicted), labels."
    )

    @Argument(help: "Folder of class folders, or a path,label CSV, with the model's classes.")
    var dataset: String

    @Option(help: "The model file (.audionet, written by `audionet train`).")
    var model: String

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @Option(help: "Backbone weights file (default: looked up in the weight store).")
    var weights: String?

    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the embedding cache.") var noCache = false

    @Option(help: "Also draw the confusion matrix as a .png or .svg.")
    var plot: String?

    func validate() throws {
        if let plot { _ = try Canvas.format(of: plot) }
    }

    func run() throws {
        let files = try LabeledFiles(contentsOf: dataset)
        try OutputFile.checkDistinct(outputs: [plot].compactMap { $0 }, inputs: [model, dataset] + [weights].compactMap { $0 } + files.paths)
        let classifier = try ClipClassifier(contentsOf: model, weightsPath: weights)
        let classes = classifier.model.classes
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        guard files.classes.allSatisfy({ index[$0] != nil }) else {
            throw CommandError("the dataset has classes the model does not know: \(files.classes.filter { index[$0] == nil }.joined(separator: ", "))")
        }
        let (probabilities, kept, failures) = classifier.probabilities(files: files.paths, cache: noCache ? nil : EmbeddingCache.user())
        if let first = failures.first {
            FileHandle.standardError.write(Data("warning: skipped \(failures.count) unreadable file(s), first \(first.path): \(first.error)\n".utf8))
        }
        let truth = kept.map { index[files.classes[files.labels[$0]]]! }
        let evaluation = Evaluation(predicted: Evaluation.argmax(probabilities), truth: truth, labels: classes)
        if let plot { try evaluation.plot(title: (dataset as NSString).lastPathComponent, format: Canvas.format(of: plot)).write(to: plot) }
        switch format {
        case .json:
            let data = try JSONEncoder().encode(evaluation)
            print(String(decoding: data, as: UTF8.self))
        case .table, .csv:
            print("accuracy \(String(format: "%.4f", evaluation.accuracy)), macro F1 \(String(format: "%.4f", evaluation.macroF1)), \(truth.count) files")
            printTable(header: ["label", "precision", "recall", "f1", "support"], rows: evaluation.perClass.map {
                [$0.label, String(format: "%.3f", $0.precision), String(format: "%.3f", $0.recall), String(format: "%.3f", $0.f1), String($0.support)]
            })
            print("confusion (rows: true, columns: predicted)")
            printTable(header: ["true"] + classes, rows: classes.indices.map { [classes[$0]] + evaluation.confusion[$0].map(String.init) })
        }
    }
}
