import ArgumentParser
import AudioNet
import Foundation

extension EventOptions.Specificity: ExpressibleByArgument {}

/// `audionet classify FILE|FOLDER… [--clip] [--top K] [--format table|json|csv] [--output-dir D]`.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify sounds into the 521 AudioSet classes with YAMNet, or into your own with a trained model.",
        discussion: """
        By default prints sound events with start and end times: runs of 0.96 s patches (every 0.48 s) whose \
        score reaches --threshold, merged when closer than --min-separation. With --clip, prints the top K \
        classes of the mean patch scores. With --model MODEL.audionet (from `audionet train`), the same with the \
        model's classes: events from its probabilities for each of the backbone's examples, or with --clip the top \
        K for the whole file (the head on the mean embedding, as it was trained). Any sample rate and channel count (resampled to the network's rate). \
        A folder is searched for audio files; with --output-dir each input's result is NAME.events.json (or \
        NAME.clip.json with --clip; .csv or .txt for those formats) there. JSON is one object per file per line. \
        '-' reads a stream on standard input (WAV, FLAC, OGG…, or raw PCM with --raw-rate); --stream writes each \
        event as it closes.
        """
    )

    @Argument(help: "Audio files (WAV, FLAC, OGG, AIFF…) or folders of them ('-': standard input).")
    var files: [String] = []

    @OptionGroup var batch: BatchOptions

    @OptionGroup var streamInput: StreamInputOptions

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

    @Option(help: "Seconds between YAMNet's 0.96 s patches (default 0.48; a whole number of its 10 ms frames).")
    var hop: Double?

    @Option(help: "Also write YAMNet's per-patch scores [N, 521] as .npy (one input).")
    var scores: String?

    @Option(help: "With --scores: each patch's start time in seconds, [N], as .npy.")
    var timestamps: String?

    @Option(help: "Also draw the spectrogram, the top classes' scores and the events as a .png or .svg (one input; YAMNet).")
    var plot: String?

    @Option(help: "A classifier trained with `audionet train` (.audionet), with its own classes.")
    var model: String?

    @Option(help: "YAMNet (or the model's backbone) weights file (default: looked up in the weight store).")
    var weights: String?

    @Option(help: "mix (channels averaged to mono) or each (each channel classified on its own, named 'FILE (channel 2)'; NAME.ch2.events.json).")
    var channels: ChannelMode = .mix

    @Option(help: "float32 (exact) or int8 (dynamic-range quantized 1×1 convolutions, as LiteRT's hybrid kernels; faster).")
    var precision: Precision = .float32

    @Flag(help: "Write each event as a JSON line (CSV with --format csv) as soon as it closes, and a still-open one at most every second of audio (\"open\": true); for a live input, '-' on standard input.")
    var stream = false

    func validate() throws {
        guard top > 0 else { throw CommandError("--top must be positive") }
        guard (0...1).contains(threshold) else { throw CommandError("--threshold must be within [0, 1]") }
        guard minimumSeparation >= 0, minimumDuration >= 0 else { throw CommandError("durations must not be negative") }
        guard timestamps == nil || scores != nil else { throw CommandError("--timestamps goes with --scores") }
        if let plot { _ = try Canvas.format(of: plot) }
        if stream {
            guard !clip, scores == nil, plot == nil, model == nil else { throw CommandError("--stream reports YAMNet's events as they close: not with --clip, --scores, --plot or --model") }
            guard batch.outputDirectory == nil else { throw CommandError("--stream writes to standard output, not --output-dir") }
        }
    }

    func run() throws {
        // The inputs first: a list or stdin that cannot be read is refused before a model loads.
        let inputs = try Batch(files, options: batch, extensions: Batch.audioExtensions, kind: "audio files").audio(channels, stream: streamInput)
        if let model { return try classifyWithTrainedModel(model, inputs) }
        let store = WeightStore.fromEnvironment()
        precision.warnIfSlowHere()
        let classifier = try SoundClassifier.yamnet(store: store, weightsPath: weights, precision: precision)
        _ = try classifier.pipeline.hop(hop)  // a bad hop is the command's error, not each file's
        let matrices = [scores, timestamps, plot].compactMap { $0 }
        var detector: SoundEventDetector?
        if !clip {
            let ontology = specificity == .none ? nil : try Ontology(path: try store.locate(YAMNet.ontologyFile))
            detector = SoundEventDetector(labels: classifier.labels, ontology: ontology,
                                          options: EventOptions(threshold: threshold, minimumSeparation: minimumSeparation,
                                                                minimumDuration: minimumDuration, specificity: specificity))
        }
        if stream, let detector { return try classifyLive(inputs, classifier, detector) }
        try classifyEach(inputs, writing: matrices) { input in
            guard !matrices.isEmpty else {
                // Read as it is decoded: a 10-hour recording costs what a 10-minute one does.
                let result = try classifier.classify(stream: input.stream(sampleRate: classifier.pipeline.input.sampleRate), hopSeconds: hop,
                                                     detector: detector)
                let text = detector == nil ? render(file: input.name, classes: classifier.topClasses(meanScores: result.meanScores, k: top))
                    : render(file: input.name, events: result.events)
                return (text, result.duration)
            }
            let samples = try input.samples(sampleRate: classifier.pipeline.input.sampleRate)
            let frames = plot == nil ? nil : LogMelFrontEnd.yamnet.logMel(samples)
            let analysis = try classifier.analyze(samples: samples, hopSeconds: hop)
            if let scores { try NPY.write(NPYArray(analysis.scores), path: scores) }
            if let timestamps {
                let starts = (0..<analysis.patchCount).map { Float(Double($0) * analysis.hopSeconds) }
                try NPY.write(NPYArray(shape: [starts.count], float32: starts), path: timestamps)
            }
            if let plot, let frames {
                try analysis.plot(frames: frames, frontEnd: .yamnet, labels: classifier.labels.names, events: detector?.events(in: analysis) ?? [],
                                  top: max(top, 10), title: "\(input.name) — YAMNet", format: Canvas.format(of: plot)).write(to: plot)
            }
            let text = detector.map { render(file: input.name, events: $0.events(in: analysis)) } ?? render(file: input.name, classes: classifier.topClasses(analysis, k: top))
            return (text, analysis.duration)
        }
    }

    /// Runs `classify` (a file's result as text and its seconds of audio) over the inputs: printed to stdout, or
    /// written one file per input under --output-dir (CSV with its header). `outputs` are files one input writes.
    func classifyEach(_ inputs: Batch, writing outputs: [String] = [], _ classify: (BatchInput) throws -> (String, Double)) throws {
        guard outputs.isEmpty || inputs.inputs.count == 1 else { throw CommandError("--scores and --plot take one input file") }
        try OutputFile.checkDistinct(outputs: outputs, inputs: inputs.inputs.map(\.path) + [weights].compactMap { $0 })
        let header = clip ? "file,index,label,score\n" : "file,label,start,end,score\n"
        if format == .csv && batch.outputDirectory == nil { print(header, terminator: "") }
        let suffix = (clip ? ".clip." : ".events.") + ["json": "json", "csv": "csv", "table": "txt"][format.rawValue, default: "txt"]
        try inputs.run(suffix: suffix) { input, destination in
            let (text, seconds) = try classify(input)
            if let destination {
                try OutputFile.checkDistinct(outputs: [destination], inputs: [input.path])
                try OutputFile.write((format == .csv ? header : "") + text, to: destination)
            } else {
                print(text, terminator: "")
            }
            return seconds
        }
    }

    /// `--stream`: each input's events written and flushed as they close, a still-open one at most every second of
    /// audio.
    func classifyLive(_ inputs: Batch, _ classifier: SoundClassifier, _ detector: SoundEventDetector) throws {
        if format == .csv { print("file,label,start,end,score,open") }
        try inputs.run(suffix: "") { input, _ in
            var openReported: [String: Double] = [:]  // label → the end of its last open report
            return try classifier.classify(stream: input.stream(sampleRate: classifier.pipeline.input.sampleRate), hopSeconds: hop,
                                           detector: detector, live: true) { closed, open in
                var text = ""
                for event in closed {
                    text += streamLine(file: input.name, event, open: false)
                    openReported[event.label] = nil
                }
                for event in open where openReported[event.label].map({ event.end - $0 >= 1 }) ?? true {
                    text += streamLine(file: input.name, event, open: true)
                    openReported[event.label] = event.end
                }
                guard !text.isEmpty else { return }
                print(text, terminator: "")
                try StandardOutput.flush()
            }.duration
        }
    }

    /// One event of `--stream`: a JSON line, or a CSV row with `--format csv`.
    func streamLine(file: String, _ event: SoundEvent, open: Bool) -> String {
        guard format != .csv else {
            return "\(csvField(file)),\(csvField(event.label)),\(String(format: "%.3f", event.start)),\(String(format: "%.3f", event.end)),\(event.score),\(open)\n"
        }
        return JSONValue.object([("file", .string(file)), ("label", .string(event.label)), ("start", .number(event.start)),
                                 ("end", .number(event.end)), ("score", .float(event.score)), ("open", .bool(open))]).encoded + "\n"
    }

    /// Each file's events, or with --clip its top classes, by a trained model.
    func classifyWithTrainedModel(_ path: String, _ inputs: Batch) throws {
        guard hop == nil, scores == nil, plot == nil else {
            throw CommandError("--hop, --scores and --plot are for YAMNet; a trained model reads its backbone's examples as it was trained")
        }
        let classifier = try ClipClassifier(contentsOf: path, weightsPath: weights)
        guard classifier.model.layer == nil else {
            throw CommandError("'\(path)' was trained on \(classifier.model.backbone), an image network: use `audionet image classify`")
        }
        // The model's classes have no ontology, so the specificity rule does not apply.
        let detector = SoundEventDetector(labels: ClassLabels(names: classifier.model.classes), ontology: nil,
                                          options: EventOptions(threshold: threshold, minimumSeparation: minimumSeparation,
                                                                minimumDuration: minimumDuration, specificity: .none))
        try classifyEach(inputs) { input in
            let samples = try input.samples(sampleRate: classifier.sampleRate)
            // The audio's length is not returned by a clip classification: the progress line counts files only.
            if clip { return (render(file: input.name, classes: try classifier.topClasses(samples: samples, k: top), model: path), 0) }
            let analysis = try classifier.analyze(samples: samples)
            return (render(file: input.name, events: detector.events(in: analysis)), analysis.duration)
        }
    }

    /// The top classes of one file in the chosen format.
    func render(file: String, classes: [ClassScore], model: String = YAMNet.descriptor.name) -> String {
        switch format {
        case .json:
            let predictions = classes.map { JSONValue.object([("index", .int($0.index)), ("label", .string($0.label)), ("score", .float($0.score))]) }
            return JSONValue.object([("file", .string(file)), ("model", .string(model)), ("predictions", .array(predictions))]).encoded + "\n"
        case .csv:
            return classes.map { "\(csvField(file)),\($0.index),\(csvField($0.label)),\($0.score)\n" }.joined()
        case .table:
            return file + "\n" + tableText(header: ["index", "label", "score"], rows: classes.map { [String($0.index), $0.label, String(format: "%.4f", $0.score)] })
        }
    }

    /// The events of one file in the chosen format.
    func render(file: String, events: [SoundEvent]) -> String {
        switch format {
        case .json:
            let list = events.map {
                JSONValue.object([("label", .string($0.label)), ("start", .number($0.start)), ("end", .number($0.end)), ("score", .float($0.score))])
            }
            return JSONValue.object([("file", .string(file)), ("events", .array(list))]).encoded + "\n"
        case .csv:
            return events.map { "\(csvField(file)),\(csvField($0.label)),\(String(format: "%.3f", $0.start)),\(String(format: "%.3f", $0.end)),\($0.score)\n" }.joined()
        case .table:
            return file + "\n" + tableText(header: ["start", "end", "label", "score"], rows: events.map {
                [String(format: "%.2f", $0.start), String(format: "%.2f", $0.end), $0.label, String(format: "%.4f", $0.score)]
            })
        }
    }
}

/// Quotes a CSV field when it holds a comma, quote or newline.
func csvField(_ text: String) -> String {
    text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
