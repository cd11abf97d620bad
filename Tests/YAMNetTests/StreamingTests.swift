import AudioNet
import Foundation
import Models
import NetCore
import TestSupport
import Testing

/// A file classified as it is decoded (``SoundClassifier/classify(stream:hopSeconds:detector:)``) gives, bit for bit,
/// the events and mean scores of the whole signal analysed at once, and the pipeline's streamed outputs are the
/// whole signal's outputs.
@Suite(.serialized) struct StreamingTests {
    /// 3 minutes of the four samples (speech between silences, a sweep, speech, a tone) at 44.1 kHz stereo: the
    /// stream resamples block by block.
    static let recording: String = {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("varied.wav").path
        let base = try! ["speech-between-silences", "sweep", "speech", "tone-a440-stereo"].flatMap {
            try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/\($0).wav").path, sampleRate: 44_100).samples
        }
        let mono = (0..<180 * 44_100).map { base[$0 % base.count] }
        try! AudioFileWriter.write(path: path, samples: mono.flatMap { [$0, 0.5 * $0] }, channels: 2, sampleRate: 44_100)
        return path
    }()

    @Test(arguments: [(0.48, 2), (0.48, 1), (0.25, 2)])
    func streamedEventsAndMeanScoresEqualTheWholeSignalsBitForBit(_ hop: Double, _ threads: Int) throws {
        let classifier = try classifier()
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(nil) }
        let detector = SoundEventDetector(labels: classifier.labels, ontology: nil, options: EventOptions(specificity: .none))
        let whole = try classifier.analyze(samples: AudioFileReader.readMono(path: Self.recording, sampleRate: 16_000).samples, hopSeconds: hop)
        let streamed = try classifier.classify(stream: AudioFileStream(opening: Self.recording, sampleRate: 16_000), hopSeconds: hop,
                                               detector: detector)
        let events = detector.events(in: whole)
        #expect(events.count > 20 && streamed.events == events, "\(streamed.events.count) events streamed, \(events.count) whole")
        #expect(streamed.meanScores == whole.meanScores && streamed.duration == whole.duration)
    }

    /// Live, each event is reported once, as soon as no later patch can change it, and the rest at the end: together
    /// the whole signal's events, for a short and a long merging gap and a minimum duration. An event reported open
    /// is never one that has closed, and most events close before the stream ends.
    @Test(arguments: [0.25, 3.0]) func eventsReportedAsTheyCloseAreTheWholeSignalsEvents(_ separation: Double) throws {
        let classifier = try classifier()
        let detector = SoundEventDetector(labels: classifier.labels, ontology: nil,
                                          options: EventOptions(minimumSeparation: separation, minimumDuration: 0.5, specificity: .none))
        let whole = detector.events(in: try classifier.analyze(samples: AudioFileReader.readMono(path: Self.recording, sampleRate: 16_000).samples))
        var closed: [SoundEvent] = [], closedBeforeTheEnd = 0
        let result = try classifier.classify(stream: AudioFileStream(opening: Self.recording, sampleRate: 16_000), detector: detector,
                                             live: true) { newlyClosed, open in
            closedBeforeTheEnd = closed.count
            closed += newlyClosed
            for event in open { #expect(!closed.contains { $0.label == event.label && $0.start == event.start }, "\(event) reported open after it closed") }
        }
        let byStart: (SoundEvent, SoundEvent) -> Bool = { ($0.start, $0.label) < ($1.start, $1.label) }
        #expect(whole.count > 10 && closed.sorted(by: byStart) == whole.sorted(by: byStart), "\(closed.count) reported, \(whole.count) whole")
        #expect(closedBeforeTheEnd > whole.count / 2, "\(closedBeforeTheEnd) of \(whole.count) closed before the end")
        #expect(result.duration == 180)
    }

    /// The async API: the recording's samples handed over in 0.1 s buffers at 44.1 kHz give the whole signal's events
    /// as closed updates, each once.
    @Test func eventsOfAsyncBuffersAreTheWholeSignalsEvents() async throws {
        let classifier = try classifier()
        let detector = SoundEventDetector(labels: classifier.labels, ontology: nil, options: EventOptions(specificity: .none))
        let samples = try AudioFileReader.readMono(path: Self.recording).samples
        let buffers = AsyncStream<[Float]> { continuation in
            for start in stride(from: 0, to: samples.count, by: 4_410) { continuation.yield(Array(samples[start..<min(samples.count, start + 4_410)])) }
            continuation.finish()
        }
        var closed: [SoundEvent] = [], open = 0
        for try await update in classifier.events(of: buffers, sampleRate: 44_100, detector: detector) {
            switch update {
            case .closed(let event): closed.append(event)
            case .open: open += 1
            }
        }
        let whole = detector.events(in: try classifier.analyze(samples: AudioFileReader.readMono(path: Self.recording, sampleRate: 16_000).samples))
        let byStart: (SoundEvent, SoundEvent) -> Bool = { ($0.start, $0.label) < ($1.start, $1.label) }
        #expect(whole.count > 20 && closed.sorted(by: byStart) == whole.sorted(by: byStart), "\(closed.count) closed, \(whole.count) whole")
        #expect(open > whole.count)
    }

    @Test func thePipelinesStreamedEmbeddingsAreTheWholeSignals() throws {
        let pipeline = try classifier().pipeline
        let node = try #require(pipeline.input.embeddings)
        let whole = try pipeline.run(file: Self.recording, outputs: [node])
        var rows: [Float] = [], secondsRead: [Double] = []
        let (times, duration) = try pipeline.run(stream: AudioFileStream(opening: Self.recording, sampleRate: pipeline.input.sampleRate),
                                                 outputs: [node]) { outputs, seconds in
            secondsRead.append(seconds)
            rows += outputs[node]!.scalars
        }
        #expect(times == whole.times && duration == whole.duration)
        #expect(secondsRead.count > 1, "a 3-minute file comes in several groups")
        #expect(secondsRead == secondsRead.sorted() && secondsRead.last == duration)
        #expect(rows == whole.outputs[node]!.scalars)
    }

    @Test func streamedEmbeddingsAndTheirPoolsAreTheWholeSignals() throws {
        let embedder = try AudioEmbedder(pipeline: classifier().pipeline)
        let whole = try embedder.embed(file: Self.recording, hopSeconds: 0.96)
        var rows: [Float] = []
        var mean = AudioEmbedder.Pooled(.mean, size: 1024), max = AudioEmbedder.Pooled(.max, size: 1024)
        let times = try embedder.embed(stream: AudioFileStream(opening: Self.recording, sampleRate: 16_000), hopSeconds: 0.96) {
            rows += $0.scalars
            mean.add($0)
            max.add($0)
        }
        #expect(times == whole.times && rows == whole.embeddings.scalars)
        #expect(mean.result == AudioEmbedder.pool(whole.embeddings, .mean) && max.result == AudioEmbedder.pool(whole.embeddings, .max))
        #expect(mean.result != max.result)
    }
}
