import CSampleRate

/// Streaming sample-rate conversion with libsamplerate.
///
/// Feed blocks in order with ``process(_:endOfInput:into:)``; the last call passes `endOfInput: true`
/// to flush the filter's tail.
public final class Resampler {
    /// Resampling filters.
    public enum Quality: Sendable {
        /// resampy's `kaiser_best` (``KaiserBestFilter``), the resampler of the reference pipelines; the default
        /// for files. A libsamplerate converter (this class) and a ratio with more than 8192 phases use `.best`.
        case kaiserBest
        /// libsamplerate's band-limited sinc, best quality (SRC_SINC_BEST_QUALITY).
        case best
        /// Band-limited sinc, medium quality.
        case medium
        /// Band-limited sinc, fastest of the sinc converters.
        case fast

        var converter: Int32 {
            switch self {
            case .kaiserBest, .best: return Int32(SRC_SINC_BEST_QUALITY)
            case .medium: return Int32(SRC_SINC_MEDIUM_QUALITY)
            case .fast: return Int32(SRC_SINC_FASTEST)
            }
        }
    }

    private let state: OpaquePointer
    private let ratio: Double
    private var scratch: [Float] = []

    /// Creates a mono converter from `sourceRate` to `targetRate` samples per second.
    public init(from sourceRate: Int, to targetRate: Int, quality: Quality = .best) throws {
        guard sourceRate > 0, targetRate > 0 else {
            throw AudioIOError.resampling(reason: "sample rates must be positive (got \(sourceRate) → \(targetRate))")
        }
        ratio = Double(targetRate) / Double(sourceRate)
        guard src_is_valid_ratio(ratio) != 0 else {
            throw AudioIOError.resampling(reason: "ratio \(ratio) is outside libsamplerate's range")
        }
        var error: Int32 = 0
        guard let state = src_new(quality.converter, 1, &error) else {
            throw AudioIOError.resampling(reason: String(cString: src_strerror(error)))
        }
        self.state = state
    }

    deinit { src_delete(state) }

    /// Converts `input` and appends the converted samples to `output`.
    public func process(_ input: ArraySlice<Float>, endOfInput: Bool, into output: inout [Float]) throws {
        let capacity = Int(Double(input.count) * ratio) + 1024
        if scratch.count < capacity { scratch = [Float](repeating: 0, count: capacity) }
        var consumed = 0
        while true {
            var generated = 0
            var used = 0
            let status: Int32 = input.withUnsafeBufferPointer { inBuffer in
                scratch.withUnsafeMutableBufferPointer { outBuffer in
                    var data = SRC_DATA()
                    data.data_in = inBuffer.baseAddress.map { UnsafePointer($0 + consumed) }
                    data.input_frames = Int(input.count - consumed)
                    data.data_out = outBuffer.baseAddress
                    data.output_frames = Int(outBuffer.count)
                    data.end_of_input = endOfInput ? 1 : 0
                    data.src_ratio = ratio
                    let status = src_process(state, &data)
                    generated = Int(data.output_frames_gen)
                    used = Int(data.input_frames_used)
                    return status
                }
            }
            guard status == 0 else { throw AudioIOError.resampling(reason: String(cString: src_strerror(status))) }
            output.append(contentsOf: scratch[0..<generated])
            consumed += used
            let inputLeft = consumed < input.count
            if !inputLeft && (!endOfInput || generated == 0) { break }
            if inputLeft && used == 0 && generated == 0 { break }
        }
    }

    /// Converts a whole signal in one call.
    public static func resample(_ samples: [Float], from sourceRate: Int, to targetRate: Int,
                                quality: Quality = .kaiserBest) throws -> [Float] {
        if sourceRate == targetRate { return samples }
        if quality == .kaiserBest, let filter = KaiserBestFilter(from: sourceRate, to: targetRate) { return filter.convert(samples) }
        let resampler = try Resampler(from: sourceRate, to: targetRate, quality: quality)
        var output: [Float] = []
        output.reserveCapacity(Int(Double(samples.count) * resampler.ratio) + 64)
        try resampler.process(samples[...], endOfInput: true, into: &output)
        return output
    }
}
