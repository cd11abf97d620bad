import Foundation

/// Mono samples at a known rate, read block by block as they come: a file or pipe (``AudioFileStream``) or buffers
/// handed over by other code (``SampleRelay``).
public protocol SampleStream: AnyObject {
    /// The rate of the samples returned.
    var sampleRate: Int { get }
    /// How many samples the source says it holds (0 when unknown): for progress only.
    var announcedSampleCount: Int { get }
    /// The next samples (possibly none yet), or nil at the end.
    func readBlock() throws -> [Float]?
}

extension AudioFileStream: SampleStream {}

/// Buffers of mono samples handed from one thread (or async code) to a reader on another: ``readBlock()`` waits for
/// the next buffer, resampled to ``sampleRate`` as it comes (20 ms chunks, see ``ChunkedResampler``) and checked as a
/// file's samples are. ``finish(throwing:)`` ends the stream; ``cancel()`` makes the reader stop.
public final class SampleRelay: SampleStream, @unchecked Sendable {
    public let sampleRate: Int
    public var announcedSampleCount: Int { 0 }
    private let resampler: ChunkedResampler?
    private let condition = NSCondition()
    private var buffers: [[Float]] = [], ended = false, failure: Error?, cancelled = false
    private var received = 0, finished = false

    /// A relay of buffers at `inputRate` read at `sampleRate`.
    public init(inputRate: Int, sampleRate: Int) throws {
        guard inputRate >= MonoAudio.minimumSampleRate else {
            throw AudioIOError.unreadable(path: "the buffers", reason: "their sample rate is \(inputRate) Hz; audio must be sampled at \(MonoAudio.minimumSampleRate) Hz or more")
        }
        self.sampleRate = sampleRate
        resampler = inputRate == sampleRate ? nil : try ChunkedResampler(from: inputRate, to: sampleRate, live: true)
    }

    /// Hands over the next samples.
    public func push(_ samples: [Float]) {
        condition.withLock {
            buffers.append(samples)
            condition.signal()
        }
    }

    /// Ends the stream, with `error` when the source failed.
    public func finish(throwing error: Error? = nil) {
        condition.withLock {
            ended = true
            failure = error
            condition.signal()
        }
    }

    /// Stops the reader: its next ``readBlock()`` throws `CancellationError`.
    public func cancel() {
        condition.withLock {
            cancelled = true
            condition.signal()
        }
    }

    public func readBlock() throws -> [Float]? {
        guard !finished else { return nil }
        let next: [Float]? = try condition.withLock {
            while buffers.isEmpty && !ended && !cancelled { condition.wait() }
            if cancelled { throw CancellationError() }
            if buffers.isEmpty, let failure { throw failure }
            return buffers.isEmpty ? nil : buffers.removeFirst()
        }
        guard let next else {
            finished = true
            guard received > 0 else { throw AudioIOError.empty(path: "the buffers") }
            return try resampler?.finish()
        }
        try AudioFileReader.checkRange(next, channels: 1, frames: next.count, path: "the buffers", firstFrame: received)
        received += next.count
        return try resampler?.process(next[...]) ?? next
    }
}
