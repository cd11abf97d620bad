import CKernels

/// A layer that can read uint8 ``Tensor/codes`` as well as floats (at some input positions). One that is not also
/// ``CodeExchanging`` passes codes on: its output is codes of its input's scale (max pooling).
protocol CodeReading: Layer {
    /// Whether it reads its input at `position` as codes as well as floats.
    func readsCodes(at position: Int) -> Bool
}

/// An int8 layer that can read uint8 ``Tensor/codes`` and write its output as codes, so that the int8 layers of a
/// calibrated network pass bytes between them instead of floats they would quantize again.
protocol CodeExchanging: CodeReading {
    /// The calibrated range of its first input; nil when it quantizes each input as it runs (it then takes floats only).
    var calibratedInputRange: ClosedRange<Float>? { get }
    /// The calibrated range of its input at `position`, which a layer writing that input as codes writes them in; nil
    /// when none was measured.
    func calibratedRange(at position: Int) -> ClosedRange<Float>?
    /// Whether it can write codes: calibrated, and its activation a clamp (or none), which the int8 kernel applies
    /// before storing.
    var canWriteCodes: Bool { get }
    /// This layer writing its output as codes of `range`.
    func writingCodes(in range: ClosedRange<Float>) -> Self
    /// Whether it writes its output as codes (``writingCodes(in:)``).
    var writesCodes: Bool { get }
}

extension CodeExchanging {
    func calibratedRange(at position: Int) -> ClosedRange<Float>? { position == 0 ? calibratedInputRange : nil }
}

extension Int8Linear: CodeExchanging {
    var calibratedInputRange: ClosedRange<Float>? { inputRange }
    func readsCodes(at position: Int) -> Bool { position == 0 && inputRange != nil }
    /// Calibrated (its float inputs quantized on the way into the kernel that writes the codes), its activation a clamp.
    var canWriteCodes: Bool { inputRange != nil && activation.clampBounds != nil }
    var writesCodes: Bool { outputRange != nil }
}

extension Int8Conv2D: CodeExchanging {
    var calibratedInputRange: ClosedRange<Float>? { product.inputRange }
    func readsCodes(at position: Int) -> Bool { position == 0 && product.inputRange != nil }
    var canWriteCodes: Bool { product.canWriteCodes }
    var writesCodes: Bool { product.outputRange != nil }
}

extension ProjectionAdd: CodeExchanging {
    var calibratedInputRange: ClosedRange<Float>? {
        if case .int8(let linear) = projection { return linear.inputRange }
        return nil
    }

    /// The projection's input and the residual, once the projection is calibrated int8.
    func readsCodes(at position: Int) -> Bool { calibratedInputRange != nil && position < 2 }
    /// The projection's range, or the residual's, measured on the calibration examples (``Add/inputRanges``).
    func calibratedRange(at position: Int) -> ClosedRange<Float>? { position == 0 ? calibratedInputRange : residualRange }
    /// A calibrated int8 projection, whose sum's activation is a clamp (``init(_:then:)`` takes no other).
    var canWriteCodes: Bool { calibratedInputRange != nil }
    var writesCodes: Bool {
        if case .int8(let linear) = projection { return linear.outputRange != nil }
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
    /// (their downsampling read as a residual too) and MobileNetV2's blocks then pass bytes from layer to layer. A reader
    /// that passes codes on (max pooling) counts as its own readers: the range is theirs, which holds every window's
    /// maximum. A run returns any requested activation as floats.
    public func exchangingCodes() -> Network {
        var result = self
        var readers = [String: [(node: Int, position: Int)]]()
        for (index, node) in nodes.enumerated() {
            for (position, input) in node.inputs.enumerated() { readers[input, default: []].append((index, position)) }
        }
        /// The calibrated ranges of the int8 layers that would read `name` as codes — those of its own readers first, then
        /// those of the layers reading what it passes codes on to — or nil when a reader cannot.
        func codeReaderRanges(of name: String) -> [ClosedRange<Float>]? {
            guard name != outputName, let reading = readers[name] else { return nil }
            var own: [ClosedRange<Float>] = [], passed: [ClosedRange<Float>] = []
            for (node, position) in reading {
                guard let layer = nodes[node].layer as? any CodeReading, layer.readsCodes(at: position) else { return nil }
                if let exchanging = layer as? any CodeExchanging {
                    if let range = exchanging.calibratedRange(at: position) { own.append(range) }
                } else {
                    guard let ranges = codeReaderRanges(of: nodes[node].name) else { return nil }
                    passed += ranges
                }
            }
            return own + passed
        }
        for (index, node) in nodes.enumerated() {
            // Its readers were calibrated on it: one range, the first measured.
            guard let layer = node.layer as? any CodeExchanging, layer.canWriteCodes,
                  let range = codeReaderRanges(of: node.name)?.first else { continue }
            result.nodes[index].layer = layer.writingCodes(in: range)
        }
        return result
    }
}

extension Network {
    /// Bytes a value of each activation takes: 1 for uint8 codes (written by a layer writing codes, or passed on by max
    /// pooling from codes), 4 for floats.
    var valueBytes: [String: Int] {
        var bytes = [inputName: MemoryLayout<Float>.size]
        for node in nodes {
            let codes: Bool
            if let layer = node.layer as? any CodeExchanging {
                codes = layer.writesCodes
            } else if let layer = node.layer as? any CodeReading, layer.readsCodes(at: 0) {
                codes = bytes[node.inputs[0]] == 1
            } else {
                codes = false
            }
            bytes[node.name] = codes ? 1 : MemoryLayout<Float>.size
        }
        return bytes
    }
}

extension Tensor.Quantization {
    /// The scale and zero point of uint8 codes of `range` (which contains 0): ``an_int8_quantize``'s rule.
    init(codesOf range: ClosedRange<Float>) {
        var scale: Float = 0, zero: Int32 = 0, code: UInt8 = 0, value: Float = 0
        an_int8_quantize(&value, 1, range.lowerBound, range.upperBound, &code, &scale, &zero)
        self.init(scale: scale, zero: zero)
    }
}
