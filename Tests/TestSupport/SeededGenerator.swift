import NetCore

/// A reproducible random number generator for test inputs: NetCore's ``SplitMix64``, the generator behind training seeds.
public typealias SeededGenerator = SplitMix64

extension SplitMix64 {
    /// `count` values uniform in `range`.
    public mutating func floats(_ count: Int, in range: ClosedRange<Float>) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}
