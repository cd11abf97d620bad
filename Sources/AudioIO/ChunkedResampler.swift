import Foundation
import Base

/// Sample-rate conversion of a stream in independent chunks, converted in parallel.
///
/// A stream is cut into chunks whose edges fall on whole periods of the rate ratio (441 input samples ↔ 160
/// output samples for 44.1 → 16 kHz). With ``KaiserBestFilter`` each chunk's outputs are computed directly at
/// their absolute positions. With a libsamplerate converter (a few million samples per second) each chunk is
/// converted by its own converter with `margin` extra input samples on both sides, and only the outputs of
/// its own span are kept. Either way every output sees the same input neighbourhood as one pass over the
/// whole signal.
public final class ChunkedResampler {
    let sourceRate: Int, targetRate: Int, quality: Resampler.Quality
    /// resampy's filter when `quality` is `.kaiserBest` and the ratio allows it.
    let filter: KaiserBestFilter?
    /// Input and output samples per period of the rate ratio.
    let inputPeriod: Int, outputPeriod: Int
    /// Input samples per chunk and context kept on each side (whole periods).
    let chunk: Int, margin: Int
    /// Input not yet converted, starting at absolute input index `bufferStart`.
    private var buffer: [Float] = []
    private var bufferStart = 0
    /// Absolute input index of the next chunk's first kept sample.
    private var next = 0

    /// Waits for a chunk per core before converting, unless the stream is live.
    let live: Bool

    /// A converter from `sourceRate` to `targetRate`. A `live` one converts 20 ms chunks as soon as they and the
    /// filter's reach have arrived (the outputs are the same; only latency and parallelism differ).
    public init(from sourceRate: Int, to targetRate: Int, quality: Resampler.Quality = .kaiserBest, live: Bool = false) throws {
        _ = try Resampler(from: sourceRate, to: targetRate, quality: quality)  // validates the ratio
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let divisor = gcd(sourceRate, targetRate)
        self.sourceRate = sourceRate
        self.targetRate = targetRate
        self.quality = quality
        filter = quality == .kaiserBest ? KaiserBestFilter(from: sourceRate, to: targetRate) : nil
        inputPeriod = sourceRate / divisor
        outputPeriod = targetRate / divisor
        // libsamplerate's best sinc reaches about 340 zero crossings / ratio input samples; 16384 covers 44.1 → 8 kHz
        // (and resampy's filter, a few hundred taps, many times over).
        let reach = live ? filter?.taps ?? 16_384 : 16_384
        margin = inputPeriod * ((reach + inputPeriod - 1) / inputPeriod)
        chunk = inputPeriod * max(1, (live ? sourceRate / 50 : 1 << 19) / inputPeriod)
        self.live = live
    }

    /// Appends `input` and returns the outputs that are now final.
    public func process(_ input: ArraySlice<Float>) throws -> [Float] {
        buffer.append(contentsOf: input)
        let available = bufferStart + buffer.count
        var spans: [Range<Int>] = []
        var start = next
        while start + chunk + margin <= available {
            spans.append(start..<start + chunk)
            start += chunk
        }
        // Wait until every core gets a chunk.
        return spans.isEmpty || (!live && spans.count < Parallel.threadCount) ? [] : try convert(spans, final: false)
    }

    /// Converts the rest of the stream and returns its outputs.
    public func finish() throws -> [Float] {
        let end = bufferStart + buffer.count
        var spans: [Range<Int>] = []
        var start = next
        while start < end {
            spans.append(start..<min(start + chunk, end))
            start += chunk
        }
        return try convert(spans, final: true)
    }

    /// Converts `spans` in parallel; the last span of the final call keeps the converter's whole tail.
    private func convert(_ spans: [Range<Int>], final: Bool) throws -> [Float] {
        guard !spans.isEmpty else { return [] }
        let end = bufferStart + buffer.count
        let results = ResultBox(count: spans.count)
        let source = buffer, origin = bufferStart
        let (margin, inputPeriod, outputPeriod) = (self.margin, self.inputPeriod, self.outputPeriod)
        let (sourceRate, targetRate, quality, filter) = (self.sourceRate, self.targetRate, self.quality, self.filter)
        Parallel.forEach(spans.count) { index in
            let span = spans[index]
            if let filter {
                // Absolute outputs of this span; the last span of the stream ends at resampy's output count.
                let first = span.lowerBound / inputPeriod * outputPeriod
                let last = final && index == spans.count - 1 ? filter.outputCount(forInput: end) : span.upperBound / inputPeriod * outputPeriod
                let converted = [Float](unsafeUninitializedCapacity: max(0, last - first)) { buffer, initialized in
                    source.withUnsafeBufferPointer { input in
                        if last > first {
                            filter.convert(input, inputStart: origin, totalInput: end, outputs: first..<last, into: buffer.baseAddress!)
                        }
                    }
                    initialized = max(0, last - first)
                }
                results.set(index, .success(converted))
                return
            }
            let lower = max(0, span.lowerBound - margin), upper = min(end, span.upperBound + margin)
            do {
                let converted = try Resampler.resample(Array(source[(lower - origin)..<(upper - origin)]),
                                                       from: sourceRate, to: targetRate, quality: quality)
                let skip = (span.lowerBound - lower) / inputPeriod * outputPeriod
                let isTail = final && index == spans.count - 1
                let keep = isTail ? max(0, converted.count - skip) : span.count / inputPeriod * outputPeriod
                results.set(index, .success(Array(converted[min(skip, converted.count)..<min(skip + keep, converted.count)])))
            } catch {
                results.set(index, .failure(error))
            }
        }
        next = spans.last!.upperBound
        let drop = min(max(0, next - margin - bufferStart), buffer.count)
        buffer.removeFirst(drop)
        bufferStart += drop
        var output: [Float] = []
        for result in results.values { output += try result!.get() }
        return output
    }
}

/// Results written by parallel workers, one slot each.
private final class ResultBox: @unchecked Sendable {
    var values: [Result<[Float], Error>?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<[Float], Error>) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
