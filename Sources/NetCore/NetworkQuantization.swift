import CKernels

/// Numeric precision of a network's large matrix products.
public enum Precision: String, Sendable, CaseIterable {
    /// Float32 everywhere: the exact path, equal to the reference implementations within 1e-4.
    case float32
    /// Int8 quantization of the matrix products: 1×1 convolutions and dense layers (``Int8Linear``, a scale per row)
    /// and the convolutions computed by im2col or Winograd (``Int8Conv2D``, a scale per image), each input quantized
    /// with its own range as it runs — or, calibrated (``Network/prepared(for:calibratedOn:)``), with the fixed range
    /// measured on calibration examples. Several times faster on processors with AVX-512 VNNI; YAMNet's scores stay
    /// within 0.05 of float32.
    case int8
}

extension Network {
    /// This network with every 1×1 convolution and dense layer replaced by its ``Int8Linear`` form, and every ungrouped
    /// convolution planned as a matrix product (im2col or Winograd), or a stem that reads more than 64 values a pixel
    /// (ResNet's 7×7), by its ``Int8Conv2D`` form; other direct kernels (shallow stems, 1-D taps and FFT) stay float32.
    /// Fold BatchNorm and activations first (``optimized()``) so the quantized weights include them.
    public func int8Quantized() -> Network {
        var result = self
        for index in result.nodes.indices {
            let layer = result.nodes[index].layer
            if let conv = layer as? Conv2D, let quantized = Int8Linear(conv) {
                result.nodes[index].layer = quantized
            } else if let conv = layer as? Conv2D, conv.isInt8Product, let quantized = Int8Conv2D(conv) {
                result.nodes[index].layer = quantized
            } else if let dense = layer as? Dense {
                result.nodes[index].layer = Int8Linear(dense)
            }
        }
        return result
    }

    /// ``int8Quantized()`` with each int8 layer's input quantized with one fixed range (static quantization): the range
    /// that input takes over `examples` in this network (run in float32, one example at a time), widened to contain 0 —
    /// ONNX Runtime's MinMax calibration. Values outside it are clamped when the network runs.
    /// - Throws: ``NetworkError/shapeMismatch(layer:expected:got:)`` when `examples` is not a batch of this network's input.
    public func int8Quantized(calibratedOn examples: Tensor) throws -> Network {
        var result = int8Quantized()
        let calibrated = result.nodes.indices.filter { result.nodes[$0].layer is any Calibratable }
        // The inputs of additions too: a residual an int8 projection adds (``fusingResiduals()``) can then travel as codes.
        let additions = result.nodes.indices.filter { result.nodes[$0].layer is Add }
        let measured = calibrated.map { result.nodes[$0].inputs[0] } + additions.flatMap { result.nodes[$0].inputs }
        let ranges = try activationRanges(of: Set(measured), over: examples)
        for index in calibrated {
            let layer = result.nodes[index].layer as! any Calibratable
            result.nodes[index].layer = layer.quantizing(inputsIn: ranges[result.nodes[index].inputs[0]]!)
        }
        for index in additions {
            var add = result.nodes[index].layer as! Add
            add.inputRanges = result.nodes[index].inputs.map { ranges[$0]! }
            result.nodes[index].layer = add
        }
        return result
    }

    /// The range of each named activation over `examples` (NaN skipped), each widened to contain 0.
    public func activationRanges(of names: Set<String>, over examples: Tensor) throws -> [String: ClosedRange<Float>] {
        var ranges = [String: ClosedRange<Float>]()
        let buffers = ActivationBuffers()
        for example in 0..<(examples.shape.first ?? 0) {
            for (name, value) in try run(examples.rows([example]), outputs: Array(names), reusing: buffers) {
                var low: Float = 0, high: Float = 0
                value.scalars.withUnsafeBufferPointer { an_int8_range($0.baseAddress!, $0.count, &low, &high) }
                ranges[name] = ranges[name].map { min($0.lowerBound, low)...max($0.upperBound, high) } ?? low...high
            }
        }
        return ranges
    }

    /// This network at `precision`, BatchNorm and activations folded, each expansion merged with the depthwise
    /// convolution that reads it (``fusingExpansions(float32From:)``: at float32 one whose output takes at least
    /// `float32ExpansionBytes`, 0 for every one), each projection with the residual addition after it
    /// (``fusingResiduals()``), each squeeze-and-excitation scaling with the projection after it (``fusingChannelScales()``),
    /// and each FFT convolution holding its kernel only as spectra (``keepingOnlySpectra()``).
    public func prepared(for precision: Precision,
                         mergingFloat32ExpansionsFrom float32ExpansionBytes: Int = ExpandedDepthwise.fusedFloat32Bytes) -> Network {
        fused(for: precision, mergingFloat32ExpansionsFrom: float32ExpansionBytes).keepingOnlySpectra()
    }

    /// The activation plan of one example as this network runs at `precision`: its layers fused as
    /// ``prepared(for:mergingFloat32ExpansionsFrom:)`` fuses them, without making their weights' inference forms (which
    /// a plan does not need).
    public func activationPlan(at precision: Precision) -> ActivationPlan {
        fused(for: precision).activationPlan()
    }

    /// ``prepared(for:mergingFloat32ExpansionsFrom:)`` but for the FFT convolutions' spectra.
    private func fused(for precision: Precision,
                       mergingFloat32ExpansionsFrom float32ExpansionBytes: Int = ExpandedDepthwise.fusedFloat32Bytes) -> Network {
        let folded = optimized()
        return (precision == .int8 ? folded.int8Quantized() : folded).fusingExpansions(float32From: float32ExpansionBytes)
            .fusingResiduals().fusingChannelScales()
    }

    /// ``prepared(for:mergingFloat32ExpansionsFrom:)`` with, at int8, each int8 layer's input range calibrated on
    /// `examples` (``int8Quantized(calibratedOn:)``) and the int8 layers passing uint8 codes between them
    /// (``exchangingCodes()``); at float32 the examples are not used.
    public func prepared(for precision: Precision, calibratedOn examples: Tensor) throws -> Network {
        guard precision == .int8 else { return prepared(for: precision) }
        return try optimized().int8Quantized(calibratedOn: examples).fusingExpansions().fusingResiduals().fusingChannelScales()
            .exchangingCodes().keepingOnlySpectra()
    }
}

/// An int8 layer whose input can be quantized with a fixed range measured on calibration examples.
protocol Calibratable: Layer {
    /// This layer with its input quantized with the fixed `range`.
    func quantizing(inputsIn range: ClosedRange<Float>) -> Self
}

extension Int8Linear: Calibratable {}
extension Int8Conv2D: Calibratable {}

extension Conv2D {
    /// Whether ``Network/int8Quantized()`` runs this convolution as an int8 matrix product: one float32 computes by
    /// im2col or Winograd, or a stem over 64 values a pixel deep, whose int8 im2col product outruns the float32 direct
    /// kernel (ResNet-50's 7×7 stem: 1.4–2.0 against 4.0 ms a pass of two images).
    var isInt8Product: Bool {
        switch algorithm {
        case .im2col, .winograd: true
        case .fewInputs: depth > 64
        default: false
        }
    }
}
