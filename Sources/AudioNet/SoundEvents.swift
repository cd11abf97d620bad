import Models

/// A detected sound with its time span.
public struct SoundEvent: Sendable, Equatable {
    public let label: String
    /// Start and end in seconds.
    public let start: Double
    public let end: Double
    /// Highest patch score of the class within the event.
    public let score: Float
}

/// How per-patch scores become sound events (the options of MATLAB's `classifySound`).
public struct EventOptions: Sendable {
    /// How specific the reported classes are.
    public enum Specificity: String, Sendable, CaseIterable {
        /// Keep the most specific classes: a class is dropped in a patch where one of its descendants is active.
        case high
        /// Report top-level categories: each active class is replaced by its highest ancestor among the classes.
        case low
        /// Report every active class as is.
        case none
    }

    /// A class is active in a patch when its score reaches this.
    public var threshold: Float = 0.25
    /// Events of one class closer than this (seconds) are merged.
    public var minimumSeparation: Double = 0.25
    /// Events shorter than this (seconds) are dropped.
    public var minimumDuration: Double = 0
    public var specificity: Specificity = .high

    public init(threshold: Float = 0.25, minimumSeparation: Double = 0.25, minimumDuration: Double = 0,
                specificity: Specificity = .high) {
        self.threshold = threshold
        self.minimumSeparation = minimumSeparation
        self.minimumDuration = minimumDuration
        self.specificity = specificity
    }
}

/// Turns per-patch scores into timed sound events.
public struct SoundEventDetector: Sendable {
    public let labels: ClassLabels
    /// Needed for `high` and `low` specificity.
    public let ontology: Ontology?
    public var options: EventOptions
    private let indexByMid: [String: Int]

    public init(labels: ClassLabels, ontology: Ontology?, options: EventOptions) {
        self.labels = labels
        self.ontology = ontology
        self.options = options
        indexByMid = Dictionary(labels.mids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Active classes of one patch, after the specificity rule, with their scores.
    func activeClasses(_ scores: ArraySlice<Float>) -> [Int: Float] {
        var active: [Int: Float] = [:]
        for (offset, score) in scores.enumerated() where score >= options.threshold { active[offset] = score }
        guard let ontology, options.specificity != .none else { return active }
        switch options.specificity {
        case .none:
            return active
        case .high:
            let ancestorsOfActive = active.keys.reduce(into: Set<String>()) { $0.formUnion(ontology.ancestors(of: labels.mids[$1])) }
            return active.filter { !ancestorsOfActive.contains(labels.mids[$0.key]) }
        case .low:
            var mapped: [Int: Float] = [:]
            for (index, score) in active {
                // The topmost ancestor that is itself one of the model's classes (the class itself if none).
                let classAncestors = ontology.ancestors(of: labels.mids[index]).compactMap { indexByMid[$0] }
                let topmost = classAncestors.filter { ontology.ancestors(of: labels.mids[$0]).allSatisfy { indexByMid[$0] == nil } }
                let target = topmost.min() ?? index
                mapped[target] = max(mapped[target] ?? 0, score)
            }
            return mapped
        }
    }

    /// Events in `analysis`, sorted by start. Each patch stands for the hop-wide slice around its centre
    /// (the first patch from 0, the last to the end of the audio); runs of active patches become events.
    public func events(in analysis: PatchAnalysis) -> [SoundEvent] {
        var tracker = tracker(hopSeconds: analysis.hopSeconds, firstCentreSeconds: analysis.firstCentreSeconds)
        let classes = analysis.scores.shape[1]
        for patch in 0..<analysis.patchCount { tracker.add(analysis.scores.scalars[patch * classes..<(patch + 1) * classes]) }
        return tracker.events(duration: analysis.duration)
    }

    /// A tracker of the runs of active patches, given patch by patch (a stream's patches as they come).
    public func tracker(hopSeconds: Double, firstCentreSeconds: Double) -> SoundEventTracker {
        SoundEventTracker(detector: self, hopSeconds: hopSeconds, firstCentreSeconds: firstCentreSeconds)
    }
}

/// The runs of active patches of each class, patch by patch: what ``SoundEventDetector`` keeps of a signal, however
/// long, to give its events at the end.
public struct SoundEventTracker: Sendable {
    public let detector: SoundEventDetector
    public let hopSeconds: Double
    public let firstCentreSeconds: Double
    /// Patches given so far.
    public private(set) var patchCount = 0
    private var runs: [Int: [(first: Int, last: Int, score: Float)]] = [:]

    init(detector: SoundEventDetector, hopSeconds: Double, firstCentreSeconds: Double) {
        self.detector = detector
        self.hopSeconds = hopSeconds
        self.firstCentreSeconds = firstCentreSeconds
    }

    /// Takes the next patch's scores, one per class.
    public mutating func add(_ scores: ArraySlice<Float>) {
        let patch = patchCount
        for (index, score) in detector.activeClasses(scores) {
            if var list = runs[index], let lastRun = list.last, lastRun.last == patch - 1 {
                list[list.count - 1] = (lastRun.first, patch, max(lastRun.score, score))
                runs[index] = list
            } else {
                runs[index, default: []].append((patch, patch, score))
            }
        }
        patchCount += 1
    }

    /// The events of the patches given, from a signal of `duration` seconds, sorted by start.
    public func events(duration: Double) -> [SoundEvent] {
        let hop = hopSeconds, count = patchCount, options = detector.options
        func start(_ patch: Int) -> Double { patch == 0 ? 0 : min(duration, firstCentreSeconds + Double(patch) * hop - hop / 2) }
        func end(_ patch: Int) -> Double { patch == count - 1 ? duration : min(duration, firstCentreSeconds + Double(patch) * hop + hop / 2) }
        var events: [SoundEvent] = []
        for (index, list) in runs {
            var merged: [SoundEvent] = []
            for run in list {
                let event = SoundEvent(label: detector.labels.names[index], start: start(run.first), end: end(run.last), score: run.score)
                if let previous = merged.last, event.start - previous.end < options.minimumSeparation {
                    merged[merged.count - 1] = SoundEvent(label: previous.label, start: previous.start, end: event.end,
                                                          score: max(previous.score, event.score))
                } else {
                    merged.append(event)
                }
            }
            events += merged.filter { $0.end - $0.start >= options.minimumDuration }
        }
        return events.sorted { ($0.start, $1.score) < ($1.start, $0.score) }
    }
}
