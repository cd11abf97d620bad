import NetCore

extension TFLiteModel {
    /// The model's graph on the engine, in real-valued arithmetic: every quantized weight and bias is
    /// dequantized, QUANTIZE/DEQUANTIZE become identities and fused activations are kept, so a quantized model
    /// runs as the float model it approximates. The input is the model's first input in real units
    /// (`scale · (q − zero_point)` for a quantized input), batch first.
    ///
    /// Supported operators: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MUL, AVERAGE_POOL_2D,
    /// MAX_POOL_2D, MEAN over the spatial axes, RESHAPE, SQUEEZE, CONCATENATION, PAD, SOFTMAX, LOGISTIC, RELU,
    /// RELU6, QUANTIZE, DEQUANTIZE. Node names are the output tensors' names (up to the first `;`).
    ///
    /// Every operand, option and weight count is checked before a layer is built: a malformed model is an
    /// error that names the operator, never a trap.
    public func network() throws -> Network {
        guard let input = inputs.first, input >= 0 else { throw ModelFileError.malformed(format: Self.format, reason: "no input") }
        let inputShape = Array(tensors[input].shape.dropFirst())
        guard inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelFileError.unsupported(format: Self.format, reason: "input of shape \(tensors[input].shape)")
        }
        var net = Network(inputShape: inputShape, inputName: "input")
        var nodeOf: [Int: String] = [input: "input"]
        var used = Set(["input"])
        func unsupported(_ op: Operator, _ why: String) -> ModelFileError {
            .unsupported(format: Self.format, reason: "operator \(op.code.map { "\($0)" } ?? "#\(op.rawCode)") \(why)")
        }
        func source(_ index: Int, for op: Operator) throws -> String {
            guard index >= 0, let name = nodeOf[index] else {
                throw unsupported(op, "reads tensor \(index >= 0 ? "'\(tensors[index].name)'" : "#\(index)") that no supported operator wrote")
            }
            return name
        }
        /// Input `position` of `op`, a tensor index.
        func operand(_ op: Operator, _ position: Int) throws -> Int {
            guard position < op.inputs.count, op.inputs[position] >= 0 else { throw unsupported(op, "has no input \(position)") }
            return op.inputs[position]
        }
        /// The optional bias (input 2), checked to have one value per output channel.
        func biases(_ op: Operator, count: Int) throws -> [Float]? {
            guard op.inputs.count > 2, op.inputs[2] >= 0 else { return nil }
            let values = try floats(op.inputs[2]).scalars
            guard values.count == count else { throw unsupported(op, "has \(values.count) biases for \(count) outputs") }
            return values
        }
        /// Integer operands (axes, paddings) stored as numbers.
        func integers(_ op: Operator, _ position: Int) throws -> [Int] {
            try floats(try operand(op, position)).scalars.map { value in
                guard let integer = Int(exactly: value), abs(integer) < 1 << 20 else { throw unsupported(op, "has the operand \(value)") }
                return integer
            }
        }
        for op in operators {
            if op.code == .dequantize, let constant = op.inputs.first, constant >= 0, tensors[constant].data != nil { continue }
            guard let code = op.code, let output = op.outputs.first, output >= 0 else { throw unsupported(op, "is not supported") }
            var name = String(tensors[output].name.split(separator: ";").first ?? "node")
            if used.contains(name) { name += "#\(net.nodes.count)" }
            let options = op.options
            let windowed: Set<OperatorCode> = [.conv2D, .depthwiseConv2D, .averagePool2D, .maxPool2D]
            if windowed.contains(code) {
                let steps = [options.stride.h, options.stride.w, options.dilation.h, options.dilation.w, options.filter.h, options.filter.w]
                guard steps.allSatisfy({ $0 > 0 && $0 < 1 << 16 }) else { throw unsupported(op, "has strides, dilations or a window \(steps)") }
            }
            let padding: Padding = options.samePadding ? .same : .valid
            let reads = [try source(try operand(op, 0), for: op)]
            switch code {
            case .conv2D:
                let kernel = try floats(try operand(op, 1))
                guard kernel.shape.count == 4, kernel.shape.allSatisfy({ $0 > 0 }) else { throw unsupported(op, "has a kernel of shape \(kernel.shape)") }
                let (outputs, height, width, channels) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
                let inputChannels = net.shapes[reads[0]]?.last ?? channels
                guard inputChannels > 0, inputChannels % channels == 0, outputs % (inputChannels / channels) == 0 else {
                    throw unsupported(op, "has a kernel of shape \(kernel.shape) for \(inputChannels) input channels")
                }
                let groups = inputChannels / channels, bias = try biases(op, count: outputs)
                try net.add(name, Conv2D(inputChannels: channels * groups, outputChannels: outputs, kernel: (height, width),
                                         stride: options.stride, dilation: options.dilation, groups: groups, padding: padding,
                                         weights: kernel.permuted([1, 2, 3, 0]).scalars, bias: bias, activation: options.activation),
                            inputs: reads)
            case .depthwiseConv2D:
                let kernel = try floats(try operand(op, 1)), multiplier = max(options.depthMultiplier, 1)
                guard kernel.shape.count == 4, kernel.shape[0] == 1, kernel.shape.allSatisfy({ $0 > 0 }), kernel.shape[3] % multiplier == 0 else {
                    throw unsupported(op, "has a kernel of shape \(kernel.shape) (channel multiplier \(multiplier))")
                }
                let outputs = kernel.shape[3], bias = try biases(op, count: outputs)
                try net.add(name, DepthwiseConv2D(channels: outputs / multiplier, multiplier: multiplier, kernel: (kernel.shape[1], kernel.shape[2]),
                                                  stride: options.stride, dilation: options.dilation, padding: padding,
                                                  weights: kernel.scalars, bias: bias, activation: options.activation), inputs: reads)
            case .fullyConnected:
                let kernel = try floats(try operand(op, 1))
                guard kernel.shape.count == 2, kernel.shape.allSatisfy({ $0 > 0 }) else { throw unsupported(op, "has weights of shape \(kernel.shape)") }
                let bias = try biases(op, count: kernel.shape[0])
                try net.add(name, Dense(inputFeatures: kernel.shape[1], outputFeatures: kernel.shape[0],
                                        weights: kernel.permuted([1, 0]).scalars, bias: bias, activation: options.activation), inputs: reads)
            case .add, .mul:
                let sources = try op.inputs.map { try source($0, for: op) }
                guard sources.count >= 2 else { throw unsupported(op, "has \(sources.count) inputs") }
                try net.add(name, code == .add ? Add() as any Layer : Multiply(), inputs: sources)
                if options.activation != .identity {
                    name += "/activation"
                    try net.add(name, ActivationLayer(options.activation))
                }
            case .averagePool2D, .maxPool2D:
                try net.add(name, Pool2D(code == .maxPool2D ? .max : .average, kernel: options.filter, stride: options.stride,
                                         padding: padding), inputs: reads)
            case .mean:
                let axes = try integers(op, 1)
                guard Set(axes) == [1, 2] else { throw unsupported(op, "averages axes \(axes); only the spatial axes are supported") }
                try net.add(name, GlobalAveragePool(), inputs: reads)
                if options.keepDimensions {
                    name += "/keepdims"
                    try net.add(name, Reshape([1, 1, -1]))
                }
            case .reshape, .squeeze:
                let target = Array(tensors[output].shape.dropFirst())
                try net.add(name, Reshape(target.isEmpty ? [1] : target), inputs: reads)
            case .concatenation:
                let sources = try op.inputs.map { try source($0, for: op) }
                try net.add(name, Concat(axis: options.axis > 0 ? options.axis - 1 : options.axis), inputs: sources)
            case .pad:
                let pads = try integers(op, 1)
                guard pads.count == 8, pads[0] == 0, pads[1] == 0, pads[6] == 0, pads[7] == 0, pads.allSatisfy({ $0 >= 0 }) else {
                    throw unsupported(op, "pads \(pads); only spatial padding is supported")
                }
                try net.add(name, ZeroPad2D(top: pads[2], bottom: pads[3], left: pads[4], right: pads[5]), inputs: reads)
            case .softmax: try net.add(name, Softmax(), inputs: reads)
            case .logistic: try net.add(name, ActivationLayer(.sigmoid), inputs: reads)
            case .relu: try net.add(name, ActivationLayer(.relu), inputs: reads)
            case .relu6: try net.add(name, ActivationLayer(.relu6), inputs: reads)
            case .quantize, .dequantize:
                nodeOf[output] = reads[0]  // real-valued arithmetic: nothing to do
                continue
            default:
                throw unsupported(op, "is not supported by the TFLite graph importer")
            }
            nodeOf[output] = name
            used.insert(name)
        }
        if let output = outputs.first, let name = nodeOf[output] { net.outputName = name }
        return net
    }
}
