import Formats
import Foundation
import NetCore
import TestSupport
import Testing

/// The classifier head's backward pass and optimizers against PyTorch (Tests/Reference/make_training_fixtures.py):
/// autograd's gradients of `F.cross_entropy` with class weights, and the parameters after three steps of
/// `torch.optim.Adam` and `torch.optim.SGD` with momentum and weight decay.
@Suite struct TrainingTests {
    let arrays: [String: NPYArray]

    init() throws { arrays = try NPZ.read(path: TestSupport.fixture("training/head.npz")) }

    func values(_ name: String) throws -> [Float] { try #require(arrays[name]).floats }

    func head() throws -> ClassifierHead {
        ClassifierHead(layers: [Dense(inputFeatures: 20, outputFeatures: 8, weights: try values("W1"), bias: try values("b1")),
                                Dense(inputFeatures: 8, outputFeatures: 5, weights: try values("W2"), bias: try values("b2"))])
    }

    func batch() throws -> (Tensor, [Int], [Float]) {
        (Tensor(shape: [16, 20], scalars: try values("x")), try values("labels").map { Int($0) }, try values("class_weights"))
    }

    /// Largest difference relative to the reference's largest magnitude.
    func relativeError(_ ours: [Float], _ reference: [Float]) -> Float {
        TestSupport.maxAbsDifference(ours, reference) / max(reference.map(abs).max() ?? 0, 1e-12)
    }

    @Test func lossAndGradientsEqualAutograd() throws {
        let (x, labels, weights) = try batch()
        let (loss, gradients, inputGradient) = try head().lossAndGradients(x, labels: labels, classWeights: weights)
        #expect(abs(loss - (try values("loss"))[0]) <= 1e-6 * abs(loss))
        #expect(relativeError(inputGradient.scalars, try values("dx")) <= 1e-5)
        for (gradient, name) in zip(gradients, ["dW1", "db1", "dW2", "db2"]) {
            let error = relativeError(gradient, try values(name))
            #expect(error <= 1e-5, "\(name): relative error \(error)")
        }
    }

    /// `cosine` is Adam with its rate from ``CosineDecay`` over four steps, as torch's `CosineAnnealingLR(T_max=4)`;
    /// `adamw` is Adam with decoupled weight decay (`torch.optim.AdamW`); `warmup` is AdamW for four of five steps
    /// whose first two warm up linearly (torch's `LinearLR` then `CosineAnnealingLR` in a `SequentialLR`).
    @Test(arguments: ["adam", "sgd", "cosine", "adamw", "warmup"]) func optimizerStepsEqualTorchOptim(optimizer name: String) throws {
        let (x, labels, weights) = try batch()
        var head = try head()
        var optimizer: any Optimizer
        switch name {
        case "sgd": optimizer = SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3)
        case "adamw", "warmup": optimizer = Adam(learningRate: 0.01, weightDecay: 0.05, decoupled: true)
        default: optimizer = Adam(learningRate: 0.01, weightDecay: 1e-3)
        }
        let decay = name == "warmup" ? CosineDecay(base: 0.01, steps: 5, warmup: 2) : CosineDecay(base: 0.01, steps: 4)
        for step in 0..<(name == "warmup" ? 4 : 3) {
            if name == "cosine" || name == "warmup" { optimizer.learningRate = decay.rate(atStep: step) }
            var parameters = head.parameters
            optimizer.step(&parameters, gradients: head.lossAndGradients(x, labels: labels, classWeights: weights).gradients)
            head.parameters = parameters
        }
        for (parameter, key) in zip(head.parameters, ["W1", "b1", "W2", "b2"]) {
            let error = relativeError(parameter, try values("\(name)_\(key)"))
            #expect(error <= 1e-6, "\(name) \(key): relative error \(error)")
        }
    }

    /// A mini-batch is gathered row by row in the order asked, repeats allowed.
    @Test func rowsAreGatheredInTheOrderAsked() {
        let x = Tensor(shape: [3, 2], scalars: [0, 1, 10, 11, 20, 21])
        #expect(x.rows([2, 0, 2]) == Tensor(shape: [3, 2], scalars: [20, 21, 0, 1, 20, 21]))
        #expect(x.rows([]).shape == [0, 2])
    }

    /// Without class weights every example counts once; the gradient of the logits sums to zero per row.
    @Test func unweightedLossIsTheMeanAndEachRowsGradientSumsToZero() throws {
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 0])
        let (loss, gradient) = SoftmaxCrossEntropy.loss(logits: logits, labels: [2, 0])
        let expected = (-log(Float(exp(3.0) / (exp(1.0) + exp(2.0) + exp(3.0)))) + log(Float(3))) / 2
        #expect(abs(loss - expected) < 1e-6)
        #expect(abs(gradient.scalars[0..<3].reduce(0, +)) < 1e-7 && abs(gradient.scalars[3..<6].reduce(0, +)) < 1e-7)
    }
}
