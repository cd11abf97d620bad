import Foundation
import NetCore
import Testing

/// Dropout while fine-tuning (PyTorch's `train()`): values zeroed at random at the layer's rate, the rest scaled by
/// `1/(1 − rate)`, and the gradient passed back through the same mask.
@Suite struct DropoutTrainingTests {
    @Test func trainingDropoutZeroesAboutItsRateScalesTheRestAndRepeatsForTheSameSeed() {
        let dropout = Dropout(rate: 0.3), x = Tensor(shape: [20_000], scalars: (0..<20_000).map { Float($0 % 97) + 1 })
        var generator = SplitMix64(seed: 5)
        let (output, factors) = dropout.trainingForward(x, using: &generator)
        let dropped = Double(factors.scalars.filter { $0 == 0 }.count) / Double(x.count)
        #expect(abs(dropped - 0.3) < 0.02, "dropped \(dropped)")
        #expect(factors.scalars.allSatisfy { $0 == 0 || $0 == 1 / Float(0.7) })
        #expect(zip(zip(x.scalars, factors.scalars), output.scalars).allSatisfy { $0.0 * $0.1 == $1 })
        let dy = Tensor(shape: [20_000], scalars: (0..<20_000).map { Float($0 % 13) - 6 })
        #expect(dropout.backward(outputGradient: dy, factors: factors).inputs[0].scalars == zip(dy.scalars, factors.scalars).map(*))
        var same = SplitMix64(seed: 5)
        #expect(dropout.trainingForward(x, using: &same).factors.scalars == factors.scalars)
        #expect(dropout.trainingForward(x, using: &generator).factors.scalars != factors.scalars, "the next step draws a new mask")
        #expect(dropout.forward([x]).scalars == x.scalars, "inference keeps every value")
    }

    /// Dense → Dropout → Dense fine-tuned on one row: a dropped hidden unit's weights and bias get no gradient, a kept
    /// one's do; inference (`forward(from:)`) drops nothing.
    @Test func aDroppedUnitGetsNoGradientInAFineTuningStep() throws {
        var network = Network(inputShape: [4])
        try network.add("hidden", Dense(inputFeatures: 4, outputFeatures: 64, weights: (0..<256).map { Float($0 % 7) * 0.1 - 0.3 },
                                        bias: [Float](repeating: 0.1, count: 64)))
        try network.add("dropout", Dropout(rate: 0.5))
        try network.add("logits", Dense(inputFeatures: 64, outputFeatures: 3, weights: (0..<192).map { Float($0 % 5) * 0.1 - 0.2 },
                                        bias: [0, 0, 0]))
        var tunable = try FineTunableNetwork(network, trainableFrom: "hidden", seed: 3)
        let input = [network.inputName: Tensor(shape: [1, 4], scalars: [1, -2, 0.5, 3])]
        let values = tunable.trainingForward(from: input)
        let factors = try #require(values[FineTunableNetwork.dropoutFactorsKey("dropout")]).scalars
        #expect(factors.contains(0) && factors.contains(2))
        let gradients = tunable.backward(values, outputGradient: Tensor(shape: [1, 3], scalars: [1, -1, 0.5]))
        let (weights, bias) = (gradients[0], gradients[1])  // hidden's [4, 64] and [64]
        for unit in 0..<64 {
            let column = (0..<4).map { weights[$0 * 64 + unit] }
            if factors[unit] == 0 {
                #expect(bias[unit] == 0 && column.allSatisfy { $0 == 0 }, "dropped unit \(unit) got a gradient")
            } else {
                #expect(bias[unit] != 0, "kept unit \(unit) got none")
            }
        }
        let inference = tunable.forward(from: input)
        #expect(inference["dropout"]!.scalars == inference["hidden"]!.scalars)
        #expect(inference["logits"]!.scalars != values["logits"]!.scalars)
    }
}
