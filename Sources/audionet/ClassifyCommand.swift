import ArgumentParser
import AudioNet
import Foundation

extension EventOptions.Specificity: ExpressibleByArgument {}

/// `audionet classify FILE… [--clip] [--top K] [--format table|json|csv]`.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify sounds into the 521 AudioSet classes with YAMNet, or into your own with a trained model.",
        discussion: """
        By default prints sound events with start and end times: runs of 0.96 s patches (every 0.48 s) whose \
        score reaches --threshold, merged when closer than --min-separation. With --clip, prints the top K \
        classes of the mean patch scores. With --model MODEL.audionet (from `audionet train`), the same with the \
        model's classes: events from its probabilities for each of the backbone's examples, or with --clip the top \
        K for the whole file (the head on the mean embedding, as it was trained). Any sample rate and channel count (resampled to the network's rate).
        """
    )

    @Argument(help: "Audio files (WAV, FLAC, OGG, AIFF…).")
    var files: [String]

    @Flag(help: "Clip-level classification: the top K classes of the mean patch scores.")
    var clip = false

    @Option(help: "Number of classes for --clip.")
    var top: Int = 5

    @Option(help: "Output format: table, json (one object per file per line) or csv.")
    var format: OutputFormat = .table

    @Option(help: "Score a class must reach in a patch to be active (events).")
    var threshold: Float = 0.25

    @Option(name: .customLong("min-separation"), help: "Events of one class closer than this many seconds are merged.")
    var minimumSeparation: Double = 0.25

    @Option(name: .customLong("min-duration"), help: "Events shorter than this many seconds are dropped.")
    var minimumDuration: Double = 0

    @Option(help: "Ontology specificity of event classes: high (most specific), low (top-level categories) or none.")
    var specificity: EventOptions.Specificity = .high

    @Option(help: "A classifier trained with `audionet train` (.audionet), with its own classes.")
    var model: String?

    @Option(help: "YAMNet (or the model's backbone) weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "float32 (exact) or int8 (dynamic-range quantized 1×1 convolutions, as LiteRT's hybrid kernels; faster).")
    var precision: Precision = .float32

    func validate() throws {
        guard top > 0 else { throw CommandError("--top must be positive") }
        guard (0...1).contains(threshold) else { throw CommandError("--threshold must be within [0, 1]") }
        guard minimumSeparation >= 0, minimumDuration >= 0 else { throw CommandError("durations must not be negative") }
    }

    func run() throws {
        if let model { return try classifyWithTrainedModel(model) }
        let store = WeightStore.fromEnvironment()
        precision.warnIfSlowHere()
        let classifier = try SoundClassifier.yamnet(store: store, weightsPath: weights, precision: precision)
        var detector: SoundEventDetector?
        if !clip {
            let ontology = specificity == .none ? nil : try Ontology(path: try store.locate(YAMNet.ontologyFile))
            detector = SoundEventDetector(labels: classifier.labels, ontology: ontology,
                                          options: EventOptions(threshold: threshold, minimumSeparation: minimumSeparation,
                                                                minimumDuration: minimumDuration, specificity: specificity))
        }
        if format == .csv { print(clip ? "file,index,label,score" : "file,label,start,end,score") }
        for file in files {
            let analysis = try classifier.analyze(file: file)
            if let detector {
                printEvents(file: file, detector.events(in: analysis))
            } else {
                printClip(file: file, classifier.topClasses(analysis, k: top))
            }
        }
    }

    /// Each file's events, or with --clip its top classes, by a trained model.
    func classifyWithTrainedModel(_ path: String) throws {
        let classifier = try ClipClassifier(contentsOf: path, weightsPath: weights)
        guard classifier.model.layer == nil else {
            throw CommandError("'\(path)' was trained on \(classifier.model.backbone), an image network: use `audionet image classify`")
        }
        // The model's classes have no ontology, so the specificity rule does not apply.
        let detector = SoundEventDetector(labels: ClassLabels(names: classifier.model.classes), ontology: nil,
                                          options: EventOptions(threshold: threshold, minimumSeparation: minimumSeparation,
                                                                minimumDuration: minimumDuration, specificity: .none))
        if format == .csv { print(clip ? "file,index,label,score" : "file,label,start,end,score") }
        for file in files {
            if clip {
                printClip(file: file, try classifier.topClasses(file: file, k: top), model: path)
            } else {
                printEvents(file: file, detector.events(in: try classifier.analyze(file: file)))
            }
        }
    }

    func printClip(file: String, _ classes: [ClassScore], model: String = YAMNet.descriptor.name) {
        switch format {
        case .json:
            let predictions = classes.map { JSONValue.object([("index", .int($0.index)), ("label", .string($0.label)), ("score", .float($0.score))]) }
            print(JSONValue.object([("file", .string(file)), ("model", .string(model)), ("predictions", .array(predictions))]).encoded)
        case .csv:
            for c in classes { print("\(csvField(file)),\(c.index),\(csvField(c.label)),\(c.score)") }
        case .table:
            print(file)
            printTable(header: ["index", "label", "score"], rows: classes.map { [String($0.index), $0.label, String(format: "%.4f", $0.score)] })
        }
    }

    func printEvents(file: String, _ events: [SoundEvent]) {
        switch format {
        case .json:
            let list = events.map {
                JSONValue.object([("label", .string($0.label)), ("start", .number($0.start)), ("end", .number($0.end)), ("score", .float($0.score))])
            }
            print(JSONValue.object([("file", .string(file)), ("events", .array(list))]).encoded)
        case .csv:
            for e in events { print("\(csvField(file)),\(csvField(e.label)),\(String(format: "%.3f", e.start)),\(String(format: "%.3f", e.end)),\(e.score)") }
        case .table:
            print(file)
            printTable(header: ["start", "end", "label", "score"], rows: events.map {
                [String(format: "%.2f", $0.start), String(format: "%.2f", $0.end), $0.label, String(format: "%.4f", $0.score)]
            })
        }
    }
}

/// Quotes a CSV field when it holds a comma, quote or newline.
func csvField(_ text: String) -> String {
    text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
