import Base

/// A log-mel front end's patches of a signal given a block at a time: bit for bit the patches ``LogMelFrontEnd``
/// cuts from the whole signal, holding only the samples and frames the next patch needs, so that memory stays the
/// same whatever the signal's length.
///
/// Frames are made two at a time once their windows are inside the samples given (the padding the reference adds at
/// the end only touches frames past the signal, made by ``finish()`` once the length is known).
public struct LogMelPatchStream {
    public let frontEnd: LogMelFrontEnd
    /// Samples given so far.
    public private(set) var signalLength = 0
    /// Patches returned so far.
    public private(set) var patchesMade = 0
    private var samples: [Float] = []  // the signal from `sampleBase` on
    private var sampleBase = 0
    private var frames: [Float] = []  // frames from `frameBase` up to `framesMade`, `melBands` values each
    private var frameBase = 0, framesMade = 0

    /// Cuts `frontEnd`'s patches (with its patch hop and padding).
    public init(_ frontEnd: LogMelFrontEnd) { self.frontEnd = frontEnd }

    /// Takes the next samples and returns the patches `[n, patchFrames, melBands]` they complete (possibly none).
    public mutating func append(_ block: [Float]) -> Tensor {
        samples += block
        signalLength += block.count
        let window = frontEnd.windowLength, hop = frontEnd.hopLength
        let inside = signalLength >= window ? (signalLength - window) / hop + 1 : 0
        // Frames in pairs from even frames, as the whole signal's are made (two frames share a transform).
        makeFrames(upTo: inside - inside % 2, padded: samples)
        return patches(upTo: frontEnd.patchCount(frames: framesMade))
    }

    /// The patches left once the signal has ended: the frames past it read the signal padded as the reference pads it.
    public mutating func finish() -> Tensor {
        let total = frontEnd.paddedCount(signalLength)
        let totalFrames = total >= frontEnd.windowLength ? 1 + (total - frontEnd.windowLength) / frontEnd.hopLength : 0
        if totalFrames > framesMade {
            makeFrames(upTo: totalFrames, padded: samples + repeatElement(0, count: total - signalLength))
        }
        return patches(upTo: frontEnd.patchCount(frames: framesMade))
    }

    /// Makes frames `framesMade ..< end` from `signal` (the samples from `sampleBase`, padded when the signal ended).
    private mutating func makeFrames(upTo end: Int, padded signal: [Float]) {
        guard end > framesMade else { return }
        let bands = frontEnd.melBands, hop = frontEnd.hopLength, base = sampleBase, first = framesMade
        let old = frames.count
        frames += repeatElement(0, count: (end - first) * bands)
        signal.withUnsafeBufferPointer { signal in
            let samples = SharedReadPointer(signal.baseAddress!)
            frames.withUnsafeMutableBufferPointer { frames in
                frontEnd.computeFrames(first..<end, into: frames.baseAddress! + old) { samples.base + ($0 * hop - base) }
            }
        }
        framesMade = end
        // The next frame starts at `end * hop`: what comes before it is no longer read.
        let keep = end * hop - sampleBase
        samples.removeFirst(min(keep, samples.count))
        sampleBase += keep
    }

    /// Patches `patchesMade ..< end`, then the frames no later patch reads dropped.
    private mutating func patches(upTo end: Int) -> Tensor {
        let bands = frontEnd.melBands, count = max(0, end - patchesMade)
        let cut = Tensor(shape: [framesMade - frameBase, bands], scalars: frames)
        let patching = frontEnd
        let result = count == 0 ? Tensor(zeros: [0, frontEnd.patchFrames, bands])
            : patching.patches(cut, first: patchesMade, count: count, firstFrame: frameBase)
        patchesMade += count
        let drop = min(patchesMade * frontEnd.patchHop, framesMade) - frameBase
        frames.removeFirst(drop * bands)
        frameBase += drop
        return result
    }
}
