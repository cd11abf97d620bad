/// CREPE's framing (marl/crepe `get_activation`): optional centring by 512 zeros on each side, 1024-sample
/// frames every `hop` samples, each frame shifted to zero mean and scaled to unit standard deviation
/// (population σ, clipped at 1e-8 so silence stays zero).
extension CREPE {
    /// Number of frames of `sampleCount` samples.
    public static func frameCount(sampleCount: Int, hop: Int, center: Bool = true) -> Int {
        let length = sampleCount + (center ? frameLength : 0)
        return length >= frameLength ? 1 + (length - frameLength) / hop : 0
    }

    /// The time of frame `frame` in seconds: its centre.
    public static func frameTime(_ frame: Int, hop: Int, center: Bool = true) -> Double {
        Double(frame * hop + (center ? 0 : frameLength / 2)) / Double(sampleRate)
    }

    /// Frames `first..<first+count` as `[count × 1024]` row-major values, from `samples` that start at sample `offset`
    /// of the signal (a window of a stream); samples outside them read as zero, as the padding around the signal.
    public static func frames(_ samples: [Float], offset: Int = 0, hop: Int, center: Bool = true, first: Int, count: Int) -> [Float] {
        precondition(hop > 0)
        let padding = center ? frameLength / 2 : 0
        var values = [Float](repeating: 0, count: count * frameLength)
        for local in 0..<count {
            let frame = first + local, base = local * frameLength
            var sum = 0.0
            for n in 0..<frameLength {
                let index = frame * hop + n - padding - offset
                let sample = index >= 0 && index < samples.count ? samples[index] : 0
                values[base + n] = sample
                sum += Double(sample)
            }
            let mean = sum / Double(frameLength)
            var squares = 0.0
            for n in 0..<frameLength { let d = Double(values[base + n]) - mean; squares += d * d }
            let deviation = max((squares / Double(frameLength)).squareRoot(), 1e-8)
            for n in 0..<frameLength { values[base + n] = Float((Double(values[base + n]) - mean) / deviation) }
        }
        return values
    }
}
