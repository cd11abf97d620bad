/// An int8 layer that can read uint8 ``Tensor/codes`` and write its output as codes, so that the int8 layers of a
/// calibrated network pass bytes between them instead of floats they would quantize again.
protocol CodeExchanging: Layer {
    /// The calibrated range of its first input; nil when it quantizes each input as it runs (it then takes floats only).
    var calibratedInputRange: ClosedRange<Float>? { get }
    /// Whether it reads its input at `position` as codes as well as floats.
    func readsCodes(at position: Int) -> Bool
    /// Whether it can write codes: its activation is a clamp (or none), which the int8 kernel applies before storing.
    var canWriteCodes: Bool { get }
    /// This layer writing its output as codes of `range`.
    func writingCodes(in range: ClosedRange<Float>) -> Self
}

extension Int8Linear: CodeExchanging {
    var calibratedInputRange: ClosedRange<Float>? { inputRange }
    func readsCodes(at position: Int) -> Bool { position == 0 && inputRange != nil }
    var canWriteCodes: Bool { activation.clampBounds != nil }
}

extension Int8Conv2D: CodeExchanging {
    var calibratedInputRange: ClosedRange<Float>? { product.inputRange }
    func readsCodes(at position: Int) -> Bool { position == 0 && product.inputRange != nil }
    var canWriteCodes: Bool { product.canWriteCodes }
}

extension ProjectionAdd: CodeExchanging {
    var calibratedInputRange: ClosedRange<Float>? {
        if case .int8(let linear) = projection { return linear.inputRange }
        return nil
    }

    /// The projection's input and the residual, once the projection is calibrated int8.
    func readsCodes(at position: Int) -> Bool { calibratedInputRange != nil && position < 2 }
    /// An int8 projection, whose sum's activation is a clamp (``init(_:then:)`` takes no other).
    var canWriteCodes: Bool {
        if case .int8 = projection { return true }
        return false
    }

    func writingCodes(in range: ClosedRange<Float>) -> ProjectionAdd {
        guard case .int8(let linear) = projection else { preconditionFailure("a float32 ProjectionAdd writes floats") }
        var result = self
        result.projection = .int8(linear.writingCodes(in: range))
        return result
    }
}

extension Network {
    /// The network with each int8 layer whose activation is a clamp and whose readers all take codes (and which is not
    /// the output) writing its output as uint8 codes of the range its readers were calibrated on: ResNet's bottlenecks
    /// and MobileNetV2's blocks then pass bytes from layer to layer. A run returns any requested activation as floats.
    public func exchangingCodes() -> Network {
        var result = self
        var readers = [String: [(node: Int, position: Int)]]()
        for (index, node) in nodes.enumerated() {
            for (position, input) in node.inputs.enumerated() { readers[input, default: []].append((index, position)) }
        }
        for (index, node) in nodes.enumerated() where node.name != outputName {
            guard let layer = node.layer as? any CodeExchanging, layer.canWriteCodes, let reading = readers[node.name],
                  reading.allSatisfy({ (nodes[$0.node].layer as? any CodeExchanging)?.readsCodes(at: $0.position) == true }) else { continue }
            // The readers that quantize it (as their first input) were calibrated on it: one range. A residual only adds it.
            guard let range = reading.lazy.filter({ $0.position == 0 })
                .compactMap({ (nodes[$0.node].layer as? any CodeExchanging)?.calibratedInputRange }).first else { continue }
            result.nodes[index].layer = layer.writingCodes(in: range)
        }
        return result
    }
}
