import Foundation

/// A learning rate that falls from `base` to zero along half a cosine over a run of `steps` optimizer steps
/// (Loshchilov & Hutter 2017, without restarts): what `torch.optim.lr_scheduler.CosineAnnealingLR(T_max: steps)`
/// gives step `t` when it is stepped after each optimizer step. With `warmup` steps, the rate first climbs linearly,
/// `base · (t + 1) / warmup` (Goyal et al. 2017's gradual warm-up), and the cosine runs over the steps after them.
public struct CosineDecay: Sendable {
    public let base: Float
    public let steps: Int
    public let warmup: Int

    public init(base: Float, steps: Int, warmup: Int = 0) {
        self.base = base
        self.warmup = min(max(warmup, 0), max(steps, 1) - 1)
        self.steps = max(steps, 1)
    }

    /// The rate of step `step` (0-based).
    public func rate(atStep step: Int) -> Float {
        if step < warmup { return base * Float(step + 1) / Float(warmup) }
        let decaying = steps - warmup
        return base * 0.5 * (1 + Float(cos(Double.pi * Double(min(step - warmup, decaying)) / Double(decaying))))
    }
}
