import Foundation
import NetCore

extension TestSupport {
    /// The closed-form weights of Tests/Reference/make_torchvision_fixtures.py (`fill`): a multiplicative hash of
    /// the element index in exact integer arithmetic, shaped per kind of tensor (BatchNorm γ = 1 + 0.1h, running
    /// mean 0.1h, running variance 1 + 0.5|h|, biases 0.1h, weights h·sqrt(6 / fan-in)).
    public static func closedForm(name: String, shape: [Int], ordinal: Int) -> Tensor {
        let count = shape.reduce(1, *)
        let fanIn = Double(shape.dropFirst().reduce(1, *))
        let values = (0..<count).map { i -> Float in
            let h = 2.0 * Double((Int64(i) &* 2_654_435_761 &+ Int64(ordinal) &* 97_531) % 4_294_967_296) / 4_294_967_296.0 - 1.0
            if name.hasSuffix("running_var") { return Float(1.0 + 0.5 * abs(h)) }
            if name.hasSuffix("running_mean") || name.hasSuffix("bias") { return Float(0.1 * h) }
            if shape.count == 1 { return Float(1.0 + 0.1 * h) }
            return Float(h * (6.0 / fanIn).squareRoot())
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// A state_dict rebuilt from a layout fixture (`name d0 d1 …` per line, in state_dict order).
    public static func closedFormStateDict(layout: String) throws -> [String: Tensor] {
        let lines = try String(contentsOfFile: fixture(layout), encoding: .utf8).split(separator: "\n")
        return Dictionary(uniqueKeysWithValues: lines.enumerated().map { ordinal, line in
            let parts = line.split(separator: " ")
            let key = String(parts[0]), shape = parts.dropFirst().map { Int($0)! }
            return (key, closedForm(name: key, shape: shape, ordinal: ordinal))
        })
    }
}
