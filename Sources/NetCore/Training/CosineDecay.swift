import Foundation

/// A learning rate that falls from `base` to zero along half a cosine over a run of `steps` optimizer steps
/// (Loshchilov & Hutter 2017, without restarts): what `torch.optim.lr_scheduler.CosineAnnealingLR(T_max: steps)`
/// gives step `t` when it is stepped after each optimizer step.
public struct CosineDecay: Sendable {
    public let base: Float
    public let steps: Int

    public init(base: Float, steps: Int) {
        self.base = base
        self.steps = max(steps, 1)
    }

    /// The rate of step `step` (0-based).
    public func rate(atStep step: Int) -> Float {
        base * 0.5 * (1 + Float(cos(Double.pi * Double(min(step, steps)) / Double(steps))))
    }
}
