import Foundation

/// CREPE's decoding of 360-bin activations into pitch (marl/crepe core.py).
extension CREPE {
    /// The bins torchcrepe's `postprocess` keeps between `minimum` and `maximum` Hz: from the bin of `minimum`
    /// (rounded down) to that of `maximum` (rounded up), exclusive; all 360 without limits.
    public static func bins(from minimum: Double?, to maximum: Double?) -> Range<Int> {
        func bin(_ frequency: Double, _ round: (Double) -> Double) -> Int {
            Int(max(0, min(Double(binCount), round((1200 * log2(frequency / 10) - cents(ofBin: 0)) / 20))))
        }
        let lower = minimum.map { bin($0, floor) } ?? 0, upper = maximum.map { bin($0, ceil) } ?? binCount
        return lower..<max(lower, upper)
    }

    /// The bin of the largest activation within `allowed`.
    public static func argmax(_ activation: ArraySlice<Float>, allowed: Range<Int> = 0..<binCount) -> Int {
        let base = activation.startIndex
        return allowed.max { activation[base + $0] < activation[base + $1] } ?? allowed.lowerBound
    }

    /// Weighted average of bin cents over the nine bins around `center` (default: the argmax), bins outside
    /// `allowed` weighing nothing. Returns NaN when those activations sum to zero.
    public static func localAverageCents(_ activation: ArraySlice<Float>, center: Int? = nil, allowed: Range<Int> = 0..<binCount) -> Double {
        let base = activation.startIndex
        let peak = center ?? argmax(activation, allowed: allowed)
        let lower = max(allowed.lowerBound, peak - 4), upper = min(allowed.upperBound, peak + 5)
        var product = 0.0, weight = 0.0
        for bin in lower..<upper {
            product += Double(activation[base + bin]) * cents(ofBin: bin)
            weight += Double(activation[base + bin])
        }
        return product / weight
    }

    /// The Viterbi path of core.py `to_viterbi_cents`: an HMM over the 360 bins with a uniform start,
    /// transitions `max(12 − |i − j|, 0)` normalised per row, emissions 0.1 for the observed bin itself plus
    /// 0.9/360 for every bin, observations the per-frame argmax. Returns the state of each frame. With `allowed`,
    /// observations and states are limited to those bins (torchcrepe's fmin/fmax).
    public static func viterbiPath(_ activations: [Float], frames: Int, bins: Int = CREPE.binCount, allowed: Range<Int>? = nil) -> [Int] {
        let allowed = allowed ?? 0..<bins
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
        func observation(_ frame: Int) -> Int { argmax(activations[frame * bins..<(frame + 1) * bins], allowed: allowed) }
        var score = (0..<bins).map { allowed.contains($0) ? log(1 / Double(bins)) : -.infinity }
        var observed = observation(0)
        for state in 0..<bins { score[state] += state == observed ? selfEmission : otherEmission }
        // Where each state came from, as an offset within the transition band (a byte: 22 MB for 10 minutes, not 86).
        var backPointers = [Int8](repeating: 0, count: frames * bins)
        var next = [Double](repeating: 0, count: bins)
        for frame in 1..<frames {
            observed = observation(frame)
            for j in 0..<bins {
                guard allowed.contains(j) else { next[j] = -.infinity; continue }
                var best = -Double.infinity, from = j
                for i in max(0, j - band)...min(bins - 1, j + band) {
                    let candidate = score[i] + logTransition[i * (2 * band + 1) + (j - i + band)]
                    if candidate > best { best = candidate; from = i }
                }
                next[j] = best + (j == observed ? selfEmission : otherEmission)
                backPointers[frame * bins + j] = Int8(from - j)
            }
            swap(&score, &next)
        }
        var path = [Int](repeating: 0, count: frames)
        path[frames - 1] = score.indices.max { score[$0] < score[$1] }!
        for frame in stride(from: frames - 1, to: 0, by: -1) { path[frame - 1] = path[frame] + Int(backPointers[frame * bins + path[frame]]) }
        return path
    }

    /// torchcrepe's `filter.median`: each value replaced by the lower median of the non-NaN values in the `window`
    /// around it (the window cut at the ends, not padded); NaN where there are none.
    public static func medianFiltered(_ values: [Double], window: Int) -> [Double] {
        let half = window / 2
        return values.indices.map { index in
            let neighbours = values[max(0, index - half)..<min(values.count, index + half + 1)].filter { !$0.isNaN }.sorted()
            return neighbours.isEmpty ? .nan : neighbours[(neighbours.count - 1) / 2]
        }
    }

    /// torchcrepe's `threshold.Hysteresis`: which frames stay voiced. Frames below `lower` are unvoiced; the others'
    /// log2 pitch is whitened, and a frame `z` deviations from the mean needs confidence above
    /// `lower + clip(width·(z² − deviations²), 0, 1 − lower)`; a run of frames above that threshold, entered from
    /// below it, stays voiced only if one of its frames passes `upper`.
    public static func hysteresisVoiced(frequencies: [Double], confidences: [Double], lower: Double = 0.19, upper: Double = 0.31,
                                        width: Double = 0.2, deviations: Double = 1.7) -> [Bool] {
        let count = frequencies.count
        let logPitch = frequencies.indices.map { confidences[$0] < lower || !(frequencies[$0] > 0) ? Double.nan : log2(frequencies[$0]) }
        let known = logPitch.filter { !$0.isNaN }
        let mean = known.reduce(0, +) / Double(known.count)
        let deviation = (known.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(known.count)).squareRoot()
        var threshold = logPitch.map { pitch -> Double in
            let z = (pitch - mean) / deviation
            let parabola = width * z * z - width * deviations * deviations
            return parabola.isNaN ? lower : lower + min(max(parabola, 0), 1 - lower)
        }
        var frame = 0
        while frame < count - 1 {
            guard confidences[frame] < threshold[frame], confidences[frame + 1] > threshold[frame + 1] else {
                frame += 1
                continue
            }
            var end = frame + 1, keep = false
            while end < count, confidences[end] > threshold[end] {
                if confidences[end] > upper { keep = true }
                end += 1
            }
            if !keep { for index in frame + 1..<end { threshold[index] = 1 } }
            frame = end
        }
        return (0..<count).map { confidences[$0] >= threshold[$0] && !logPitch[$0].isNaN }
    }
}
