import Foundation

/// CREPE's decoding of 360-bin activations into pitch (marl/crepe core.py).
extension CREPE {
    /// Weighted average of bin cents over the nine bins around `center` (default: the argmax).
    /// Returns NaN when those activations sum to zero.
    public static func localAverageCents(_ activation: ArraySlice<Float>, center: Int? = nil) -> Double {
        let base = activation.startIndex
        let peak = center ?? (activation.indices.max { activation[$0] < activation[$1] }.map { $0 - base } ?? 0)
        let lower = max(0, peak - 4), upper = min(activation.count, peak + 5)
        var product = 0.0, weight = 0.0
        for bin in lower..<upper {
            product += Double(activation[base + bin]) * cents(ofBin: bin)
            weight += Double(activation[base + bin])
        }
        return product / weight
    }

    /// The Viterbi path of core.py `to_viterbi_cents`: an HMM over the 360 bins with a uniform start,
    /// transitions `max(12 − |i − j|, 0)` normalised per row, emissions 0.1 for the observed bin itself plus
    /// 0.9/360 for every bin, observations the per-frame argmax. Returns the state of each frame.
    public static func viterbiPath(_ activations: [Float], frames: Int, bins: Int = CREPE.binCount) -> [Int] {
        guard frames > 0 else { return [] }
        let band = 11
        var logTransition = [Double](repeating: -.infinity, count: bins * (2 * band + 1))
        for i in 0..<bins {
            var total = 0.0
            for j in max(0, i - band)...min(bins - 1, i + band) { total += Double(12 - abs(i - j)) }
            for j in max(0, i - band)...min(bins - 1, i + band) {
                logTransition[i * (2 * band + 1) + (j - i + band)] = log(Double(12 - abs(i - j)) / total)
            }
        }
        let selfEmission = log(0.1 + 0.9 / Double(bins)), otherEmission = log(0.9 / Double(bins))
        func observation(_ frame: Int) -> Int {
            let row = activations[frame * bins..<(frame + 1) * bins]
            return row.indices.max { row[$0] < row[$1] }! - frame * bins
        }
        var score = [Double](repeating: log(1 / Double(bins)), count: bins)
        var observed = observation(0)
        for state in 0..<bins { score[state] += state == observed ? selfEmission : otherEmission }
        var backPointers = [Int32](repeating: 0, count: frames * bins)
        var next = [Double](repeating: 0, count: bins)
        for frame in 1..<frames {
            observed = observation(frame)
            for j in 0..<bins {
                var best = -Double.infinity, from = j
                for i in max(0, j - band)...min(bins - 1, j + band) {
                    let candidate = score[i] + logTransition[i * (2 * band + 1) + (j - i + band)]
                    if candidate > best { best = candidate; from = i }
                }
                next[j] = best + (j == observed ? selfEmission : otherEmission)
                backPointers[frame * bins + j] = Int32(from)
            }
            swap(&score, &next)
        }
        var path = [Int](repeating: 0, count: frames)
        path[frames - 1] = score.indices.max { score[$0] < score[$1] }!
        for frame in stride(from: frames - 1, to: 0, by: -1) { path[frame - 1] = Int(backPointers[frame * bins + path[frame]]) }
        return path
    }
}
