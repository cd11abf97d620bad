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
    private var runs: [Int: [Run]] = [:]

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
        let count = patchCount
        var events: [SoundEvent] = []
        for (index, list) in runs {
            events += groups(of: list, duration: duration).map { event(index, list[$0], duration: duration, lastPatch: count - 1) }
                .filter { $0.end - $0.start >= detector.options.minimumDuration }
        }
        return events.sorted { ($0.start, $1.score) < ($1.start, $0.score) }
    }

    /// The events no later patch can change, taken out of the tracker, given that the signal holds at least
    /// `secondsRead` seconds: a class's event is closed when the class was inactive in the last patch given and a
    /// run starting at the next patch would be at least the minimum separation away. A live stream's events can be
    /// reported as they close; ``events(duration:)`` then gives the others at the end (together, a whole run's).
    public mutating func takeClosedEvents(secondsRead: Double) -> [SoundEvent] {
        guard patchCount > 0 else { return [] }
        var closed: [SoundEvent] = []
        for (index, list) in runs {
            var taken = 0
            for group in groups(of: list, duration: .infinity) {
                let event = event(index, list[group], duration: .infinity, lastPatch: .max)
                // Where the class's next run starts, at the earliest (the signal's end may come before it).
                let following = min(secondsRead, start(group.upperBound < list.count ? list[group.upperBound].first : patchCount, duration: .infinity))
                guard list[group.upperBound - 1].last < patchCount - 1, event.end <= secondsRead,
                      following - event.end >= detector.options.minimumSeparation else { break }
                if event.end - event.start >= detector.options.minimumDuration { closed.append(event) }
                taken = group.upperBound
            }
            runs[index] = taken == list.count ? nil : Array(list[taken...])
        }
        return closed.sorted { ($0.start, $1.score) < ($1.start, $0.score) }
    }

    /// The events still open, as far as they go with the patches given (their end is the last active patch's).
    public func openEvents(secondsRead: Double) -> [SoundEvent] {
        runs.compactMap { index, list in
            guard let group = groups(of: list, duration: .infinity).last, list[group.upperBound - 1].last == patchCount - 1 else { return nil }
            let event = event(index, list[group], duration: .infinity, lastPatch: .max)
            return SoundEvent(label: event.label, start: event.start, end: min(event.end, secondsRead), score: event.score)
        }.sorted { ($0.start, $1.score) < ($1.start, $0.score) }
    }

    private typealias Run = (first: Int, last: Int, score: Float)

    /// The runs that merge into one event (closer than the minimum separation), as ranges of `list`.
    private func groups(of list: [Run], duration: Double) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        for (offset, run) in list.enumerated() {
            if let previous = groups.last,
               start(run.first, duration: duration) - end(list[previous.upperBound - 1].last, duration: duration, lastPatch: patchCount - 1)
                < detector.options.minimumSeparation {
                groups[groups.count - 1] = previous.lowerBound..<offset + 1
            } else {
                groups.append(offset..<offset + 1)
            }
        }
        return groups
    }

    /// The event of merged runs of class `index`.
    private func event(_ index: Int, _ runs: ArraySlice<Run>, duration: Double, lastPatch: Int) -> SoundEvent {
        SoundEvent(label: detector.labels.names[index], start: start(runs.first!.first, duration: duration),
                   end: end(runs.last!.last, duration: duration, lastPatch: lastPatch), score: runs.map(\.score).max()!)
    }

    /// Each patch stands for the hop-wide slice around its centre; the first from 0, the last to the end.
    private func start(_ patch: Int, duration: Double) -> Double {
        patch == 0 ? 0 : min(duration, firstCentreSeconds + Double(patch) * hopSeconds - hopSeconds / 2)
    }

    private func end(_ patch: Int, duration: Double, lastPatch: Int) -> Double {
        patch == lastPatch ? duration : min(duration, firstCentreSeconds + Double(patch) * hopSeconds + hopSeconds / 2)
    }
}
