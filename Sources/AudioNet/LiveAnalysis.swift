import AudioIO
import Foundation

/// A change in the sound events of a live signal: an event that has closed (final, reported once) or one still open,
/// as far as it goes.
public enum SoundEventUpdate: Sendable, Equatable {
    case closed(SoundEvent)
    case open(SoundEvent)
}

extension PitchEstimator {
    /// The pitch of a live signal given as buffers of mono samples at `sampleRate`: each piece of track as soon as
    /// the samples its frames read have arrived (see ``estimate(stream:stepMilliseconds:centered:decoding:activations:embedding:live:progress:_:)``
    /// with `live`). The decoding must be frame-local (``PitchDecoding/isFrameLocal``), else the whole track comes at
    /// the end. The network runs on a thread of its own; ending the iteration stops it.
    public func frames<Buffers: AsyncSequence & Sendable>(of buffers: Buffers, sampleRate: Int, stepMilliseconds: Double = 10,
                                                          centered: Bool = true, decoding: PitchDecoding = PitchDecoding())
        -> AsyncThrowingStream<PitchTrack, Error> where Buffers.Element == [Float] {
        LiveAnalysis.run(buffers, inputRate: sampleRate, sampleRate: CREPE.sampleRate) { relay, yield in
            try self.estimate(stream: relay, stepMilliseconds: stepMilliseconds, centered: centered, decoding: decoding, live: true, yield)
        }
    }
}

extension SoundClassifier {
    /// The sound events of a live signal given as buffers of mono samples at `sampleRate`: after each patch, the
    /// events that closed and those still open (see ``classify(stream:hopSeconds:detector:live:report:)``); at the
    /// end the rest are closed. The network runs on a thread of its own; ending the iteration stops it.
    public func events<Buffers: AsyncSequence & Sendable>(of buffers: Buffers, sampleRate: Int, hopSeconds: Double? = nil,
                                                          detector: SoundEventDetector)
        -> AsyncThrowingStream<SoundEventUpdate, Error> where Buffers.Element == [Float] {
        LiveAnalysis.run(buffers, inputRate: sampleRate, sampleRate: pipeline.input.sampleRate) { relay, yield in
            _ = try self.classify(stream: relay, hopSeconds: hopSeconds, detector: detector, live: true) { closed, open in
                for event in closed { yield(.closed(event)) }
                for event in open { yield(.open(event)) }
            }
        }
    }
}

/// Runs a blocking analysis of a ``SampleRelay`` on a thread of its own, fed from an async sequence of buffers, its
/// results handed out as an async stream.
enum LiveAnalysis {
    static func run<Buffers: AsyncSequence & Sendable, Result: Sendable>(
        _ buffers: Buffers, inputRate: Int, sampleRate: Int,
        _ analyse: @escaping @Sendable (SampleRelay, (Result) -> Void) throws -> Void
    ) -> AsyncThrowingStream<Result, Error> where Buffers.Element == [Float] {
        AsyncThrowingStream { continuation in
            let relay: SampleRelay
            do {
                relay = try SampleRelay(inputRate: inputRate, sampleRate: sampleRate)
            } catch {
                continuation.finish(throwing: error)
                return
            }
            let feeder = Task {
                do {
                    for try await buffer in buffers { relay.push(buffer) }
                    relay.finish()
                } catch {
                    relay.finish(throwing: error)
                }
            }
            let worker = Thread {
                do {
                    try analyse(relay) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            worker.stackSize = 8 << 20
            continuation.onTermination = { _ in
                feeder.cancel()
                relay.cancel()
            }
            worker.start()
        }
    }
}
