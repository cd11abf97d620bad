import NetCore
import Testing

extension SeededGenerator {
    /// A 1×1 convolution with weights uniform in −1…1 and biases in `biasRange`.
    public mutating func pointwise(_ inputs: Int, _ outputs: Int, _ activation: Activation = .identity,
                                   biasRange: ClosedRange<Float> = -1...1) -> Conv2D {
        Conv2D(inputChannels: inputs, outputChannels: outputs, kernel: (1, 1), weights: floats(inputs * outputs, in: -1...1),
               bias: floats(outputs, in: biasRange), activation: activation)
    }
}

extension TestSupport {
    /// Checks a fused layer's output against the separate layers': the same shape, bit for bit when `exact` (both run
    /// the same packed product), within 1e-5 of the largest magnitude otherwise; when the fused clamp is ReLU6, both
    /// of its ends reached.
    public static func expectFusedOutput(_ together: Tensor, equals separate: Tensor, exact: Bool, activation: Activation,
                                         _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(together.shape == separate.shape, "\(context)", sourceLocation: sourceLocation)
        let difference = maxAbsDifference(together.scalars, separate.scalars)
        let tolerance = exact ? 0 : 1e-5 * max(1, separate.scalars.map(abs).max() ?? 0)
        #expect(difference <= tolerance, "\(context): \(difference)", sourceLocation: sourceLocation)
        if activation == .relu6 {
            #expect(together.scalars.contains(6) && together.scalars.contains(0), "\(context): the clamp ran", sourceLocation: sourceLocation)
        }
    }
}
