import CAudioKernels
import Foundation

/// resampy's `kaiser_best` resampler (the one YAMNet, VGGish, OpenL3 and CREPE's reference pipelines call) as a
/// polyphase filter bank.
///
/// resampy interpolates a windowed-sinc table — 50 zero crossings, 8192 entries per crossing, roll-off
/// 0.9173473712608761, Kaiser window β = 12.984585251213234 (fitted to the table resampy ships: largest
/// difference 2.3e-12) — linearly at each output's fractional position. For a rational ratio the positions
/// repeat every `outputPeriod` outputs, so each phase's weights are computed once, exactly as resampy's loop
/// computes them, and each output is one dot product over `taps` input samples.
public struct KaiserBestFilter: Sendable {
    public let sourceRate: Int, targetRate: Int
    /// Input and output samples per period of the rate ratio.
    public let inputPeriod: Int, outputPeriod: Int
    /// Input samples each output reads, and how many of them precede its anchor sample `⌊t · P / Q⌋`.
    public let taps: Int, leftTaps: Int
    /// `outputPeriod` filters of `taps` weights; filter p serves the outputs t with t mod Q = p.
    let bank: [Float]

    static let zeroCrossings = 50, tablePerCrossing = 8192
    static let rolloff = 0.9173473712608761, beta = 12.984585251213234
    /// Phases above this build too large a bank (rates with a large prime factor against the target).
    static let maximumPeriod = 8192

    /// The filter for `sourceRate` → `targetRate`, or nil when their ratio has more than 8192 phases.
    public init?(from sourceRate: Int, to targetRate: Int) {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        guard sourceRate > 0, targetRate > 0, sourceRate != targetRate else { return nil }
        let divisor = gcd(sourceRate, targetRate)
        let (p, q) = (sourceRate / divisor, targetRate / divisor)
        guard q <= Self.maximumPeriod else { return nil }
        self.sourceRate = sourceRate
        self.targetRate = targetRate
        inputPeriod = p
        outputPeriod = q
        // resampy: interp_win scaled by the ratio when downsampling, its forward differences, index_step.
        let ratio = Double(targetRate) / Double(sourceRate), scale = min(1, ratio)
        var window = Self.table
        if ratio < 1 { for i in window.indices { window[i] *= ratio } }
        let delta = window.indices.map { $0 + 1 < window.count ? window[$0 + 1] - window[$0] : 0 }
        let step = Int(scale * Double(Self.tablePerCrossing)), count = window.count
        // One wing's weights at a fractional position `frac` (in output-time units scaled as resampy's `frac`).
        func wing(_ frac: Double) -> [Double] {
            let position = frac * Double(Self.tablePerCrossing)
            let offset = Int(position), eta = position - Double(offset)
            return (0..<max(0, (count - offset) / step)).map { i in window[offset + i * step] + eta * delta[offset + i * step] }
        }
        let wings = (0..<q).map { phase -> (left: [Double], right: [Double]) in
            let frac = scale * Double(phase * p % q) / Double(q)
            return (wing(frac), wing(scale - frac))
        }
        let left = wings.map(\.left.count).max() ?? 0, right = wings.map(\.right.count).max() ?? 0
        leftTaps = left
        taps = left + right
        var bank = [Float](repeating: 0, count: q * taps)
        for (phase, wing) in wings.enumerated() {
            // Input index n − i sits at tap left − 1 − i; n + 1 + k at tap left + k.
            for (i, weight) in wing.left.enumerated() { bank[phase * taps + left - 1 - i] = Float(weight) }
            for (k, weight) in wing.right.enumerated() { bank[phase * taps + left + k] = Float(weight) }
        }
        self.bank = bank
    }

    /// resampy's table: the right wing of a Kaiser-windowed sinc, in double precision.
    static let table: [Double] = {
        let n = zeroCrossings * tablePerCrossing
        func besselI0(_ x: Double) -> Double {
            var sum = 1.0, term = 1.0, k = 1.0
            while term > sum * 1e-17 {
                term *= (x / (2 * k)) * (x / (2 * k))
                sum += term
                k += 1
            }
            return sum
        }
        let normalizer = besselI0(beta)
        return (0...n).map { i in
            let x = Double(zeroCrossings) * Double(i) / Double(n)
            let argument = Double.pi * rolloff * x
            let sinc = i == 0 ? 1 : sin(argument) / argument
            let u = Double(i) / Double(n)
            return rolloff * sinc * besselI0(beta * (1 - u * u).squareRoot()) / normalizer
        }
    }()

    /// Output samples for `inputCount` input samples (resampy: ⌊inputCount · target / source⌋).
    public func outputCount(forInput inputCount: Int) -> Int { inputCount * outputPeriod / inputPeriod }

    /// Outputs `outputs` (absolute indices) of a signal of `totalInput` samples, reading `input`, which holds
    /// the absolute input samples `inputStart ..< inputStart + input.count`; samples outside the signal are zero.
    public func convert(_ input: UnsafeBufferPointer<Float>, inputStart: Int, totalInput: Int, outputs: Range<Int>,
                        into output: UnsafeMutablePointer<Float>) {
        bank.withUnsafeBufferPointer { filters in
            an_polyphase(input.baseAddress, inputStart, input.count, totalInput, filters.baseAddress, Int32(taps), Int32(leftTaps),
                         Int32(inputPeriod), Int32(outputPeriod), outputs.lowerBound, outputs.count, output)
        }
    }

    /// Converts a whole signal.
    public func convert(_ samples: [Float]) -> [Float] {
        let count = outputCount(forInput: samples.count)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            samples.withUnsafeBufferPointer { input in
                if count > 0 { convert(input, inputStart: 0, totalInput: samples.count, outputs: 0..<count, into: buffer.baseAddress!) }
            }
            initialized = count
        }
    }
}
