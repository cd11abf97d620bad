import NetCore
import ProtobufSchemas

extension ONNXModel {
    /// The operators ``network()`` reads.
    public static let operators: Set<String> = [
        "Conv", "ConvTranspose", "Resize", "Gemm", "MatMul", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh", "Softmax", "LogSoftmax", "Split", "Slice", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "LRN", "Concat",
        "Add", "Sub", "Mul", "Div", "Sum", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Pad", "Dropout",
        "Identity", "Constant", "Shape",
    ]

    /// Operators folded when every input is a constant: the shape arithmetic exporters write (`Shape` → `Gather` →
    /// `Unsqueeze` → `Concat` → `Reshape`), on one-dimensional integer tensors.
    public static let foldedOperators: Set<String> = ["Concat", "Gather", "Slice", "Unsqueeze", "Squeeze", "Cast"]

    /// The graph on the engine. The network's input is the graph's one non-constant input, batch first, in the
    /// file's own layout (NCHW for images) or, with `channelsLast`, a 4-D input as `[N, H, W, C]` (the catalog's image
    /// networks); its output is the graph's first output, also in the file's layout.
    /// Inside, four-dimensional tensors run channels-last, as every engine layer does: the importer inserts a
    /// transpose only where an operator needs the file's order (a reshape of a feature map, say). Node names are
    /// the ONNX output names, so `--layer` takes any tensor name of the file.
    ///
    /// Every attribute, weight shape and operand is checked before its layer is built: an unsupported operator or
    /// a malformed graph is a one-line error naming the node.
    public func network(channelsLast: Bool = false) throws -> Network {
        var builder = try ONNXGraphBuilder(model: self, channelsLast: channelsLast)
        for node in graph.node { try builder.add(node) }
        return try builder.finish()
    }
}

/// How a tensor of the ONNX graph lives on the engine.
struct ONNXValue {
    /// The engine node that holds it.
    var node: String
    /// Its ONNX shape, batch excluded.
    var shape: [Int]
    /// Whether the node holds a 4-D tensor `[N, C, H, W]` as `[N, H, W, C]`.
    var channelsLast: Bool
}

/// Turns ONNX nodes into engine layers, one at a time, in the file's order (ONNX requires a topological order).
struct ONNXGraphBuilder {
    let model: ONNXModel
    var net: Network
    var values: [String: ONNXValue] = [:]
    var constants: [String: Onnx_TensorProto] = [:]
    /// Engine nodes holding a value in the other layout, made once.
    var converted: [String: String] = [:]
    /// The nodes reading each tensor.
    let readers: [String: [Onnx_NodeProto]]
    /// Outputs of nodes already built as part of an earlier node's pattern (a channel shuffle's transpose and reshape).
    var absorbed = Set<String>()

    static let format = ONNXModel.format

    init(model: ONNXModel, channelsLast: Bool) throws {
        self.model = model
        let constants = Dictionary(model.graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let inputs = model.graph.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ModelFileError.unsupported(format: Self.format, reason: "\(inputs.count) graph inputs (AudioNet runs graphs of one input)")
        }
        let dims = input.type.tensorType.shape.dim
        let shape = dims.dropFirst().map { Int(clamping: $0.dimValue) }
        guard !dims.isEmpty, shape.allSatisfy({ $0 > 0 && $0 < 1 << 24 }), input.type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw ModelFileError.unsupported(format: Self.format, reason: "input '\(input.name)' of shape \(dims.map { $0.dimValue > 0 ? "\($0.dimValue)" : ($0.dimParam.isEmpty ? "?" : $0.dimParam) }) and type \(input.type.tensorType.elemType) (AudioNet needs float32 with every size but the batch fixed)")
        }
        let inputLast = channelsLast && shape.count == 3
        net = Network(inputShape: inputLast ? [shape[1], shape[2], shape[0]] : shape, inputName: input.name)
        self.constants = constants
        readers = model.graph.node.reduce(into: [:]) { readers, node in
            for input in Set(node.input) where !input.isEmpty { readers[input, default: []].append(node) }
        }
        values[input.name] = ONNXValue(node: input.name, shape: shape, channelsLast: inputLast)
    }

    func failure(_ node: Onnx_NodeProto, _ why: String) -> ModelFileError {
        .unsupported(format: Self.format, reason: "\(node.opType) node '\(node.name.isEmpty ? node.output.first ?? "" : node.name)' \(why)")
    }

    // MARK: Operands and attributes

    func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
    func int(_ node: Onnx_NodeProto, _ name: String, _ fallback: Int) -> Int { attribute(node, name).map { Int(clamping: $0.i) } ?? fallback }
    func float(_ node: Onnx_NodeProto, _ name: String, _ fallback: Float) -> Float { attribute(node, name)?.f ?? fallback }
    func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int]? { attribute(node, name).map { $0.ints.map { Int(clamping: $0) } } }
    func string(_ node: Onnx_NodeProto, _ name: String) -> String? { attribute(node, name).map { String(decoding: $0.s, as: UTF8.self) } }

    /// Input `position` of `node` as a graph value.
    func value(_ node: Onnx_NodeProto, _ position: Int = 0) throws -> ONNXValue {
        guard position < node.input.count, let value = values[node.input[position]] else {
            throw failure(node, position < node.input.count ? "reads '\(node.input[position])', which no supported node wrote"
                                                            : "has no input \(position)")
        }
        return value
    }

    /// Input `position` as a constant (an initializer or a Constant node's output), or nil when it is absent.
    func constant(_ node: Onnx_NodeProto, _ position: Int) throws -> Onnx_TensorProto? {
        guard position < node.input.count, !node.input[position].isEmpty else { return nil }
        guard let tensor = constants[node.input[position]] else { throw failure(node, "needs input \(position) ('\(node.input[position])') to be a constant") }
        return tensor
    }

    func floats(_ node: Onnx_NodeProto, _ position: Int) throws -> Tensor? { try constant(node, position).map { try model.floats($0) } }
    func integers(_ node: Onnx_NodeProto, _ position: Int) throws -> [Int]? { try constant(node, position).map { try model.integers($0) } }

    /// Axes from an attribute (older opsets) or an input (newer), made non-negative for `rank`.
    func axes(_ node: Onnx_NodeProto, input position: Int, rank: Int) throws -> [Int]? {
        guard let raw = try ints(node, "axes") ?? integers(node, position) else { return nil }
        return try raw.map { axis in
            guard (-rank..<rank).contains(axis) else { throw failure(node, "has the axis \(axis) for rank \(rank)") }
            return axis < 0 ? axis + rank : axis
        }
    }

    // MARK: Layouts

    /// The engine node of `value` in channels-last order (a 4-D value), made once.
    mutating func channelsLast(_ value: ONNXValue, for node: Onnx_NodeProto) throws -> String {
        guard value.shape.count == 3 else { throw failure(node, "needs a 4-D [N, C, H, W] input, not [N, \(value.shape.map(String.init).joined(separator: ", "))]") }
        if value.channelsLast { return value.node }
        if let done = converted[value.node] { return done }
        let name = try net.add(value.node + "#nhwc", Permute([1, 2, 0]), inputs: [value.node])
        converted[value.node] = name
        return name
    }

    /// The engine node of `value` in the file's order, made once (a reshape view where both orders agree).
    mutating func fileOrder(_ value: ONNXValue) throws -> String {
        guard value.channelsLast else { return value.node }
        if let done = converted[value.node] { return done }
        let (channels, height, width) = (value.shape[0], value.shape[1], value.shape[2])
        let layer: any Layer = channels == 1 || height * width == 1 ? Reshape(value.shape) : Permute([2, 0, 1])
        let name = try net.add(value.node + "#nchw", layer, inputs: [value.node])
        converted[value.node] = name
        return name
    }

    /// Records `output` of `node` as the engine node `layer` reading `inputs`.
    mutating func emit(_ node: Onnx_NodeProto, _ layer: any Layer, inputs: [String], channelsLast: Bool) throws {
        guard let output = node.output.first, !output.isEmpty, values[output] == nil, constants[output] == nil else {
            throw failure(node, "writes no output, or one already written")
        }
        try net.add(output, layer, inputs: inputs)
        var shape = net.shapes[output]!
        if channelsLast { shape = [shape[2], shape[0], shape[1]] }
        values[output] = ONNXValue(node: output, shape: shape, channelsLast: channelsLast)
    }

    /// A 2-D window's padding from `auto_pad` and `pads` (ONNX's `[top, left, bottom, right]`).
    func padding(_ node: Onnx_NodeProto, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> Padding {
        switch string(node, "auto_pad") ?? "NOTSET" {
        case "VALID": return .valid
        case "SAME_UPPER": return .same
        case "SAME_LOWER":
            let totals = (0..<2).map { axis in
                let output = (input[axis] + strides[axis] - 1) / strides[axis]
                return max((output - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - input[axis], 0)
            }
            return .explicit(top: (totals[0] + 1) / 2, bottom: totals[0] / 2, left: (totals[1] + 1) / 2, right: totals[1] / 2)
        case "NOTSET":
            let pads = ints(node, "pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else { throw failure(node, "has the pads \(pads)") }
            return .explicit(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
        case let other: throw failure(node, "has auto_pad \(other)")
        }
    }

    /// Kernel, strides and dilations of a 2-D window, checked.
    func window(_ node: Onnx_NodeProto, kernel given: [Int]?) throws -> (kernel: [Int], strides: [Int], dilations: [Int]) {
        let kernel = ints(node, "kernel_shape") ?? given ?? []
        let strides = ints(node, "strides") ?? [1, 1], dilations = ints(node, "dilations") ?? [1, 1]
        guard kernel.count == 2, strides.count == 2, dilations.count == 2,
              (kernel + strides + dilations).allSatisfy({ $0 > 0 && $0 < 1 << 16 }) else {
            throw failure(node, "has the window \(kernel), strides \(strides), dilations \(dilations) (AudioNet reads 2-D windows)")
        }
        return (kernel, strides, dilations)
    }

    // MARK: Operators

    mutating func add(_ node: Onnx_NodeProto) throws {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { throw failure(node, "is in the domain '\(node.domain)'") }
        if let output = node.output.first, absorbed.contains(output) { return }
        // Nodes come in topological order: an input not yet written is a cycle, or the output of an unread node.
        if let unknown = node.input.first(where: { !$0.isEmpty && values[$0] == nil && constants[$0] == nil }) {
            throw failure(node, "reads '\(unknown)', which no supported node wrote")
        }
        if ONNXModel.foldedOperators.contains(node.opType), !node.input.isEmpty,
           node.input.allSatisfy({ $0.isEmpty || constants[$0] != nil }) {
            return try fold(node)
        }
        switch node.opType {
        case "Shape":
            // The batch size is unknown until run time: it stays a marker that Reshape and Resize read as "the batch".
            let input = try value(node), full = [ONNXGraphBuilder.batch] + input.shape
            let clamp = { (index: Int) in min(max(index < 0 ? index + full.count : index, 0), full.count) }
            let start = clamp(int(node, "start", 0)), end = max(clamp(int(node, "end", full.count)), start)
            constants[node.output.first ?? ""] = ONNXGraphBuilder.integerTensor(Array(full[start..<end]), name: node.output.first ?? "")
        case "Constant":
            guard let output = node.output.first, let attribute = node.attribute.first else { throw failure(node, "has no value") }
            var tensor = Onnx_TensorProto()
            switch attribute.name {
            case "value": tensor = attribute.t
            case "value_float": tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue); tensor.floatData = [attribute.f]
            case "value_floats": tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue); tensor.floatData = attribute.floats; tensor.dims = [Int64(attribute.floats.count)]
            case "value_int": tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); tensor.int64Data = [attribute.i]
            case "value_ints": tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); tensor.int64Data = attribute.ints; tensor.dims = [Int64(attribute.ints.count)]
            default: throw failure(node, "has the value attribute \(attribute.name)")
            }
            tensor.name = output
            constants[output] = tensor
        case "Identity", "Dropout":
            guard let output = node.output.first else { throw failure(node, "has no output") }
            if let tensor = constants[node.input.first ?? ""] { constants[output] = tensor } else { values[output] = try value(node) }
        case "Conv": try convolution(node)
        case "ConvTranspose": try transposedConvolution(node)
        case "Resize": try resize(node)
        case "Gemm", "MatMul": try dense(node)
        case "BatchNormalization":
            let input = try value(node)
            guard let scale = try floats(node, 1), let bias = try floats(node, 2), let mean = try floats(node, 3), let variance = try floats(node, 4),
                  let channels = input.shape.first, [scale, bias, mean, variance].allSatisfy({ $0.count == channels }) else {
                throw failure(node, "needs four constant statistics of one value per channel")
            }
            let layer = BatchNorm(gamma: scale.scalars, beta: bias.scalars, mean: mean.scalars, variance: variance.scalars, epsilon: float(node, "epsilon", 1e-5))
            if input.shape.count == 3 {
                try emit(node, layer, inputs: [try channelsLast(input, for: node)], channelsLast: true)
            } else if input.shape.count == 2 {
                // [N, C, L]: normalized channels-last, then back.
                let sequence = try net.add((node.output.first ?? "") + "#nlc", Permute([1, 0]), inputs: [input.node])
                let normalized = try net.add((node.output.first ?? "") + "#normalized", layer, inputs: [sequence])
                try emit(node, Permute([1, 0]), inputs: [normalized], channelsLast: false)
            } else {
                guard input.shape.count == 1 else { throw failure(node, "normalizes a tensor of shape \(input.shape)") }
                try emit(node, layer, inputs: [input.node], channelsLast: false)
            }
        case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Clip":
            try activation(node)
        case "Split", "Slice": try slice(node)
        case "Softmax", "LogSoftmax":
            let input = try value(node), rank = input.shape.count + 1
            // Before opset 13 Softmax normalizes the flattened axes from `axis` on, from 13 one axis: the same when it is the last.
            let axis = int(node, "axis", model.opset >= 13 ? -1 : 1)
            guard axis == -1 || axis == rank - 1 else { throw failure(node, "normalizes over axis \(axis) of rank \(rank) (AudioNet: the last axis)") }
            try emit(node, Softmax(logarithm: node.opType == "LogSoftmax"), inputs: [try fileOrder(input)], channelsLast: false)
        case "MaxPool", "AveragePool": try pooling(node)
        case "GlobalAveragePool", "GlobalMaxPool":
            let input = try value(node), source = try channelsLast(input, for: node)
            try emit(node, Pool2D(node.opType == "GlobalMaxPool" ? .max : .average, kernel: (input.shape[1], input.shape[2])),
                     inputs: [source], channelsLast: true)
        case "ReduceMean":
            let input = try value(node)
            let axes = try axes(node, input: 1, rank: input.shape.count + 1)
            guard input.shape.count == 3, axes.map(Set.init) == [2, 3] else {
                throw failure(node, "averages axes \(axes.map { "\($0)" } ?? "all") of a rank-\(input.shape.count + 1) tensor (AudioNet: the spatial axes of [N, C, H, W])")
            }
            let source = try channelsLast(input, for: node)
            if int(node, "keepdims", 1) == 1 {
                try emit(node, Pool2D(.average, kernel: (input.shape[1], input.shape[2])), inputs: [source], channelsLast: true)
            } else {
                try emit(node, GlobalAveragePool(), inputs: [source], channelsLast: false)
            }
        case "LRN":
            let input = try value(node), size = int(node, "size", 0)
            guard size > 0 && size < 1 << 10 else { throw failure(node, "has the size \(size)") }
            try emit(node, LocalResponseNorm(size: size, alpha: float(node, "alpha", 1e-4), beta: float(node, "beta", 0.75), k: float(node, "bias", 1)),
                     inputs: [try channelsLast(input, for: node)], channelsLast: true)
        case "Add", "Sub", "Mul", "Div": try arithmetic(node)
        case "Sum": try sum(node)
        case "Concat": try concat(node)
        case "Reshape" where try channelShuffle(node): break
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze": try reshape(node)
        case "Transpose":
            let input = try value(node), rank = input.shape.count + 1
            let perm = ints(node, "perm") ?? Array((0..<rank).reversed())
            guard perm.count == rank, perm.sorted() == Array(0..<rank), perm.first == 0 else {
                throw failure(node, "has the permutation \(perm) (AudioNet keeps the batch axis first)")
            }
            if input.channelsLast && perm == [0, 2, 3, 1] {
                // The file asks for channels-last, which the engine already holds.
                try emit(node, Reshape([input.shape[1], input.shape[2], input.shape[0]]), inputs: [input.node], channelsLast: false)
            } else {
                try emit(node, Permute(perm.dropFirst().map { $0 - 1 }), inputs: [try fileOrder(input)], channelsLast: false)
            }
        case "Pad":
            let input = try value(node)
            let pads = try ints(node, "pads") ?? integers(node, 1) ?? []
            let mode = string(node, "mode") ?? "constant", fill = try floats(node, 2)?.scalars.first ?? float(node, "value", 0)
            // A negative pad crops (ONNX's rule); ZeroPad2D refuses a crop of the whole axis.
            guard input.shape.count == 3, pads.count == 8, mode == "constant", fill == 0, pads.allSatisfy({ abs($0) < 1 << 16 }),
                  pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
                throw failure(node, "pads \(pads) in \(mode) mode (AudioNet: zeros around the spatial axes of [N, C, H, W])")
            }
            try emit(node, ZeroPad2D(top: pads[2], bottom: pads[6], left: pads[3], right: pads[7]),
                     inputs: [try channelsLast(input, for: node)], channelsLast: true)
        default:
            throw failure(node, "is not supported (AudioNet reads \(ONNXModel.operators.sorted().joined(separator: ", ")))")
        }
    }

    /// Split and Slice of a value along its channels (axis 1 of `[N, C, H, W]`) or its last axis, step 1.
    mutating func slice(_ node: Onnx_NodeProto) throws {
        let input = try value(node), rank = input.shape.count + 1
        var axis = node.opType == "Split" ? int(node, "axis", 0) : (try ints(node, "axes") ?? integers(node, 3) ?? [0]).first ?? 0
        if axis < 0 { axis += rank }
        let channelsLast = rank == 4 && axis == 1, last = axis == rank - 1 && !input.channelsLast
        guard channelsLast || last else { throw failure(node, "cuts axis \(axis) of rank \(rank) (AudioNet: the channels or the last axis)") }
        let size = input.shape[axis - 1]
        var ranges: [Range<Int>]
        if node.opType == "Split" {
            var sizes = try ints(node, "split") ?? integers(node, 1) ?? []
            if sizes.isEmpty {
                let parts = int(node, "num_outputs", node.output.count), share = (size + parts - 1) / max(parts, 1)
                sizes = (0..<parts).map { min(share, max(size - $0 * share, 0)) }
            }
            guard sizes.count == node.output.count, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == size else {
                throw failure(node, "splits \(size) into \(sizes) for \(node.output.count) outputs")
            }
            let ends = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
            ranges = zip(ends, ends.dropFirst()).map { $0..<$1 }
        } else {
            let starts = try ints(node, "starts") ?? integers(node, 1) ?? [], ends = try ints(node, "ends") ?? integers(node, 2) ?? []
            guard starts.count == 1, ends.count == 1, (try integers(node, 4) ?? [1]) == [1] else {
                throw failure(node, "slices with starts \(starts), ends \(ends) (AudioNet: one axis, step 1)")
            }
            let clamp = { (index: Int) in min(max(index < 0 ? index + size : index, 0), size) }
            ranges = [clamp(starts[0])..<max(clamp(starts[0]), clamp(ends[0]))]
        }
        let source = channelsLast ? try self.channelsLast(input, for: node) : try fileOrder(input)
        for (output, range) in zip(node.output, ranges) {
            var part = node
            part.output = [output]
            try emit(part, ChannelSlice(range), inputs: [source], channelsLast: channelsLast)
        }
    }

    mutating func convolution(_ node: Onnx_NodeProto) throws {
        if let kernel = try constant(node, 1), kernel.dims.count == 3 { return try convolution1D(node, kernel: kernel) }
        let input = try value(node)
        guard let kernel = try floats(node, 1), kernel.shape.count == 4, kernel.shape.allSatisfy({ $0 > 0 }) else {
            throw failure(node, "needs a constant 4-D kernel (AudioNet reads 2-D convolutions)")
        }
        let (outputs, perGroup) = (kernel.shape[0], kernel.shape[1])
        let groups = int(node, "group", 1), channels = input.shape.first ?? 0
        guard groups > 0, input.shape.count == 3, perGroup * groups == channels, outputs % groups == 0 else {
            throw failure(node, "has a kernel \(kernel.shape) in \(groups) groups for input \(input.shape)")
        }
        let bias = try floats(node, 2)?.scalars
        guard bias == nil || bias!.count == outputs else { throw failure(node, "has \(bias!.count) biases for \(outputs) outputs") }
        let (size, strides, dilations) = try window(node, kernel: Array(kernel.shape[2...]))
        guard size == Array(kernel.shape[2...]) else { throw failure(node, "has kernel_shape \(size) for a kernel \(kernel.shape)") }
        let padding = try padding(node, input: Array(input.shape[1...]), kernel: size, strides: strides, dilations: dilations)
        let source = try channelsLast(input, for: node)
        let layer: any Layer
        if groups == channels && groups > 1 {
            // Depthwise: [C·m, 1, kh, kw] → [kh, kw, C·m].
            layer = DepthwiseConv2D(channels: channels, multiplier: outputs / channels, kernel: (size[0], size[1]), stride: (strides[0], strides[1]),
                                    dilation: (dilations[0], dilations[1]), padding: padding, weights: kernel.permuted([2, 3, 0, 1]).scalars, bias: bias)
        } else {
            // OIHW → HWIO.
            layer = Conv2D(inputChannels: channels, outputChannels: outputs, kernel: (size[0], size[1]), stride: (strides[0], strides[1]),
                           dilation: (dilations[0], dilations[1]), groups: groups, padding: padding,
                           weights: kernel.permuted([2, 3, 1, 0]).scalars, bias: bias)
        }
        try emit(node, layer, inputs: [source], channelsLast: true)
    }

    /// A 1-D convolution on `[N, C, L]`: the 2-D one on the height-1 image `[N, C, 1, L]`, reshaped back.
    mutating func convolution1D(_ node: Onnx_NodeProto, kernel: Onnx_TensorProto) throws {
        let input = try value(node), output = node.output.first ?? ""
        guard input.shape.count == 2 else { throw failure(node, "has a 1-D kernel for input \(input.shape)") }
        let image = try net.add(output + "#image", Reshape([input.shape[0], 1, input.shape[1]]), inputs: [input.node])
        values[image] = ONNXValue(node: image, shape: [input.shape[0], 1, input.shape[1]], channelsLast: false)
        var planar = node, flat = kernel
        flat.name = output + "#kernel"
        flat.dims = [kernel.dims[0], kernel.dims[1], 1, kernel.dims[2]]
        constants[flat.name] = flat
        planar.input[0] = image
        planar.input[1] = flat.name
        planar.output = [output + "#2d"]
        // Every window attribute gains a height-1 axis first.
        planar.attribute = node.attribute.map { attribute in
            var widened = attribute
            switch attribute.name {
            case "kernel_shape", "strides", "dilations": widened.ints = [1] + attribute.ints
            case "pads" where attribute.ints.count == 2: widened.ints = [0, attribute.ints[0], 0, attribute.ints[1]]
            default: break
            }
            return widened
        }
        try convolution(planar)
        let result = values[planar.output[0]]!
        try emit(node, Reshape([result.shape[0], result.shape[2]]), inputs: [try fileOrder(result)], channelsLast: false)
    }

    mutating func transposedConvolution(_ node: Onnx_NodeProto) throws {
        let input = try value(node)
        guard let kernel = try floats(node, 1), kernel.shape.count == 4, kernel.shape.allSatisfy({ $0 > 0 }), input.shape.count == 3,
              kernel.shape[0] == input.shape[0] else {
            throw failure(node, "needs a constant 4-D kernel [C, M, kh, kw] for input \(input.shape)")
        }
        guard int(node, "group", 1) == 1, ints(node, "output_shape") == nil else { throw failure(node, "has groups or an output_shape (AudioNet: neither)") }
        let outputs = kernel.shape[1], bias = try floats(node, 2)?.scalars
        guard bias == nil || bias!.count == outputs else { throw failure(node, "has \(bias!.count) biases for \(outputs) outputs") }
        let (size, strides, dilations) = try window(node, kernel: Array(kernel.shape[2...]))
        let extra = ints(node, "output_padding") ?? [0, 0]
        guard size == Array(kernel.shape[2...]), extra.count == 2, extra.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else {
            throw failure(node, "has kernel_shape \(size) for a kernel \(kernel.shape), or output_padding \(extra)")
        }
        var pads = ints(node, "pads") ?? [0, 0, 0, 0]
        switch string(node, "auto_pad") ?? "NOTSET" {
        case "NOTSET": break
        case "VALID": pads = [0, 0, 0, 0]
        case let same where same.hasPrefix("SAME_"):
            // The output is input × stride; the excess is cropped, the odd one at the end for SAME_UPPER.
            let totals: [Int] = (0..<2).map { axis in
                let full = ConvTranspose2D.size(input.shape[axis + 1], size[axis], strides[axis], dilations[axis], 0, 0, extra[axis])
                return max(full - input.shape[axis + 1] * strides[axis], 0)
            }
            pads = same == "SAME_UPPER" ? [totals[0] / 2, totals[1] / 2, totals[0] - totals[0] / 2, totals[1] - totals[1] / 2]
                                        : [totals[0] - totals[0] / 2, totals[1] - totals[1] / 2, totals[0] / 2, totals[1] / 2]
        case let other: throw failure(node, "has auto_pad \(other)")
        }
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else { throw failure(node, "has the pads \(pads)") }
        // [C, M, kh, kw] → [C, kh, kw, M].
        let layer = ConvTranspose2D(inputChannels: input.shape[0], outputChannels: outputs, kernel: (size[0], size[1]), stride: (strides[0], strides[1]),
                                    dilation: (dilations[0], dilations[1]), crop: (pads[0], pads[1], pads[2], pads[3]), outputPadding: (extra[0], extra[1]),
                                    weights: kernel.permuted([0, 2, 3, 1]).scalars, bias: bias)
        try emit(node, layer, inputs: [try channelsLast(input, for: node)], channelsLast: true)
    }

    /// Resize (opset 10: X, scales; from 11: X, roi, scales, sizes) of the spatial axes of `[N, C, H, W]`.
    mutating func resize(_ node: Onnx_NodeProto) throws {
        let input = try value(node)
        guard input.shape.count == 3 else { throw failure(node, "resizes a tensor of shape \(input.shape) (AudioNet: [N, C, H, W])") }
        let scales = try floats(node, model.opset >= 11 ? 2 : 1)?.scalars ?? []
        let sizes = model.opset >= 11 ? try integers(node, 3) ?? [] : []
        let height: Int, width: Int
        var given: (Double, Double)?
        if sizes.count == 4 {
            guard sizes[1] == input.shape[0], sizes[2] > 0, sizes[3] > 0, sizes[2] < 1 << 16, sizes[3] < 1 << 16 else { throw failure(node, "resizes \(input.shape) to \(sizes)") }
            (height, width) = (sizes[2], sizes[3])
        } else if scales.count == 4 {
            guard scales[0] == 1, scales[1] == 1, scales[2] > 0, scales[3] > 0, scales[2] < 1024, scales[3] < 1024 else { throw failure(node, "has the scales \(scales) (AudioNet: the spatial axes)") }
            (height, width) = (Int((Double(input.shape[1]) * Double(scales[2])).rounded(.down)), Int((Double(input.shape[2]) * Double(scales[3])).rounded(.down)))
            given = (Double(scales[2]), Double(scales[3]))
        } else {
            throw failure(node, "has neither 4 scales nor 4 sizes")
        }
        let mode: Resize2D.Mode
        switch string(node, "mode") ?? "nearest" {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .linear
        case let other: throw failure(node, "has the mode \(other) (AudioNet: nearest, linear)")
        }
        // Opset 10 had no coordinate modes: its nearest was asymmetric with floor rounding.
        let coordinateName = string(node, "coordinate_transformation_mode") ?? (model.opset >= 11 ? "half_pixel" : "asymmetric")
        let roundingName = string(node, "nearest_mode") ?? (model.opset >= 11 ? "round_prefer_floor" : "floor")
        guard let coordinates = Resize2D.Coordinates(rawValue: coordinateName), let rounding = Resize2D.Rounding(rawValue: roundingName),
              height > 0, width > 0, int(node, "antialias", 0) == 0, (string(node, "keep_aspect_ratio_policy") ?? "stretch") == "stretch" else {
            throw failure(node, "has coordinate mode \(coordinateName), nearest mode \(roundingName), antialiasing or a kept aspect ratio")
        }
        try emit(node, Resize2D(height: height, width: width, scales: given, mode: mode, coordinates: coordinates, rounding: rounding),
                 inputs: [try channelsLast(input, for: node)], channelsLast: true)
    }

    /// Gemm (`α·A·op(B) + β·C`) and MatMul with a constant right operand, as a dense layer on the last axis.
    mutating func dense(_ node: Onnx_NodeProto) throws {
        let input = try value(node)
        guard let b = try floats(node, 1), b.shape.count == 2 else { throw failure(node, "needs a constant 2-D right operand") }
        let isGemm = node.opType == "Gemm"
        guard !isGemm || (int(node, "transA", 0) == 0 && input.shape.count == 1) else { throw failure(node, "multiplies a transposed or non-2-D left operand") }
        let transposed = isGemm && int(node, "transB", 0) == 1
        let weights = transposed ? b.permuted([1, 0]) : b
        let (inputs, outputs) = (weights.shape[0], weights.shape[1])
        guard input.shape.last == inputs else { throw failure(node, "multiplies \(input.shape) by \(b.shape)") }
        let alpha = isGemm ? float(node, "alpha", 1) : 1, beta = isGemm ? float(node, "beta", 1) : 1
        var bias = [Float](repeating: 0, count: outputs)
        if isGemm, let c = try floats(node, 2) {
            guard c.count == outputs || c.count == 1 else { throw failure(node, "adds a C of shape \(c.shape) to \(outputs) outputs") }
            bias = c.count == 1 ? bias.map { _ in beta * c.scalars[0] } : c.scalars.map { beta * $0 }
        }
        try emit(node, Dense(inputFeatures: inputs, outputFeatures: outputs, weights: weights.scalars.map { alpha * $0 }, bias: bias),
                 inputs: [try fileOrder(input)], channelsLast: false)
    }

    mutating func activation(_ node: Onnx_NodeProto) throws {
        let input = try value(node)
        let activation: Activation
        switch node.opType {
        case "Relu": activation = .relu
        case "LeakyRelu": activation = .leakyReLU(alpha: float(node, "alpha", 0.01))
        case "Sigmoid": activation = .sigmoid
        case "Tanh": activation = .tanh
        case "HardSigmoid": activation = .hardSigmoid(alpha: float(node, "alpha", 0.2), beta: float(node, "beta", 0.5))
        case "HardSwish": activation = .hardSwish
        default:
            // Clip: bounds as attributes before opset 11, as optional inputs from it.
            let low = try floats(node, 1)?.scalars.first ?? float(node, "min", -.infinity)
            let high = try floats(node, 2)?.scalars.first ?? float(node, "max", .infinity)
            activation = low == 0 && high == 6 ? .relu6 : low == 0 && high == .infinity ? .relu : .clip(low: low, high: high)
        }
        try emit(node, ActivationLayer(activation), inputs: [input.node], channelsLast: input.channelsLast)
    }

    mutating func pooling(_ node: Onnx_NodeProto) throws {
        let input = try value(node)
        guard input.shape.count == 3 else { throw failure(node, "pools a tensor of shape \(input.shape) (AudioNet: [N, C, H, W])") }
        let (kernel, strides, dilations) = try window(node, kernel: nil)
        guard dilations == [1, 1], int(node, "storage_order", 0) == 0 else { throw failure(node, "has dilations \(dilations) or a column-major index") }
        let padding = try padding(node, input: Array(input.shape[1...]), kernel: kernel, strides: strides, dilations: dilations)
        let layer = Pool2D(node.opType == "MaxPool" ? .max : .average, kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]),
                           padding: padding, countIncludesPadding: int(node, "count_include_pad", 0) == 1, ceilMode: int(node, "ceil_mode", 0) == 1)
        try emit(node, layer, inputs: [try channelsLast(input, for: node)], channelsLast: true)
    }

    mutating func arithmetic(_ node: Onnx_NodeProto) throws {
        let operation = Arithmetic.Operation(rawValue: node.opType)!
        guard node.input.count == 2 else { throw failure(node, "has \(node.input.count) inputs") }
        let left = values[node.input[0]], right = values[node.input[1]]
        switch (left, right) {
        case let (a?, b?):
            // Two values: both channels-last when either 4-D operand is.
            let last = (a.channelsLast || b.channelsLast) && a.shape.count == 3 && b.shape.count == 3
            let sources = last ? [try channelsLast(a, for: node), try channelsLast(b, for: node)] : [try fileOrder(a), try fileOrder(b)]
            // A sum of equal shapes is a residual connection: the engine's Add, which takes the activation after it.
            let layer: any Layer = operation == .add && a.shape == b.shape ? Add() : Arithmetic(operation, constant: nil)
            try emit(node, layer, inputs: sources, channelsLast: last)
        case (let a?, nil), (nil, let a?):
            let constantFirst = left == nil
            guard let constant = try floats(node, constantFirst ? 0 : 1) else { throw failure(node, "has no second operand") }
            // The constant's shape right-aligned to the value's rank (batch included); its batch axis must be 1.
            let rank = a.shape.count + 1
            guard constant.shape.count <= rank, constant.shape.count < rank || constant.shape[0] == 1 else {
                throw failure(node, "broadcasts a constant of shape \(constant.shape) over the batch")
            }
            var shape = [Int](repeating: 1, count: rank - constant.shape.count) + constant.shape
            var operand = Tensor(shape: shape, scalars: constant.scalars)
            if a.channelsLast {
                operand = operand.permuted([0, 2, 3, 1])
                shape = operand.shape
            }
            let example = Tensor(shape: Array(shape.dropFirst()), scalars: operand.scalars)
            try emit(node, Arithmetic(operation, constant: example, constantFirst: constantFirst), inputs: [a.node], channelsLast: a.channelsLast)
        default:
            throw failure(node, "has two constant operands")
        }
    }

    /// `Sum` of values of one shape (Caffe2's residual connections export so): the engine's Add.
    mutating func sum(_ node: Onnx_NodeProto) throws {
        let inputs = try node.input.indices.map { try value(node, $0) }
        guard let first = inputs.first, inputs.allSatisfy({ $0.shape == first.shape }) else {
            throw failure(node, "adds values of shapes \(inputs.map(\.shape)) (AudioNet: one or more of one shape)")
        }
        if inputs.count == 1, let output = node.output.first, !output.isEmpty {
            values[output] = first
            return
        }
        let last = first.shape.count == 3 && inputs.contains(where: \.channelsLast)
        let sources = try inputs.map { last ? try channelsLast($0, for: node) : try fileOrder($0) }
        try emit(node, Add(), inputs: sources, channelsLast: last)
    }

    mutating func concat(_ node: Onnx_NodeProto) throws {
        let inputs = try node.input.indices.map { try value(node, $0) }
        guard let first = inputs.first else { throw failure(node, "has no inputs") }
        let rank = first.shape.count + 1
        var axis = int(node, "axis", 1)
        if axis < 0 { axis += rank }
        guard (1..<rank).contains(axis) else { throw failure(node, "joins along axis \(axis) of rank \(rank) (AudioNet: not the batch axis)") }
        if rank == 4 && inputs.contains(where: \.channelsLast) {
            let sources = try inputs.map { try channelsLast($0, for: node) }
            try emit(node, Concat(axis: [2, 0, 1][axis - 1]), inputs: sources, channelsLast: true)
        } else {
            try emit(node, Concat(axis: axis - 1), inputs: try inputs.map { try fileOrder($0) }, channelsLast: false)
        }
    }

    /// Flatten, Reshape, Squeeze and Unsqueeze: the new example shape, on the file's order.
    mutating func reshape(_ node: Onnx_NodeProto) throws {
        let input = try value(node), rank = input.shape.count + 1
        let count = input.shape.reduce(1, *)
        var shape: [Int]
        switch node.opType {
        case "Flatten":
            let axis = int(node, "axis", 1)
            guard axis == 1 || axis == 1 - rank else { throw failure(node, "flattens from axis \(axis) (AudioNet: from axis 1)") }
            shape = [count]
        case "Reshape":
            guard let target = try ints(node, "shape") ?? integers(node, 1), !target.isEmpty else { throw failure(node, "has no target shape") }
            // Entry 0 is the batch: kept (0 or −1 with the rest fixed, or a literal that the rest accounts for).
            let rest = target.dropFirst().enumerated().map { index, size in size == 0 && int(node, "allowzero", 0) == 0 && index + 1 < rank ? input.shape[index] : size }
            shape = Array(rest)
            guard target[0] == 0 || target[0] == -1 || target[0] == Self.batch || target[0] > 0, !(target[0] == -1 && rest.contains(-1)),
                  rest.allSatisfy({ $0 >= -1 }) else {
                throw failure(node, "reshapes to \(target) (AudioNet keeps the batch axis)")
            }
        case "Squeeze":
            let axes = try axes(node, input: 1, rank: rank) ?? (1..<rank).filter { input.shape[$0 - 1] == 1 }
            guard !axes.contains(0), axes.allSatisfy({ input.shape[$0 - 1] == 1 }) else { throw failure(node, "squeezes axes \(axes) of \(input.shape)") }
            shape = input.shape.enumerated().filter { !axes.contains($0.offset + 1) }.map(\.element)
        default:
            guard let axes = try axes(node, input: 1, rank: rank + (try ints(node, "axes") ?? integers(node, 1) ?? []).count), !axes.contains(0) else {
                throw failure(node, "unsqueezes the batch axis or no axis")
            }
            shape = input.shape
            for axis in axes.sorted() { shape.insert(1, at: min(axis - 1, shape.count)) }
        }
        try emit(node, Reshape(shape), inputs: [try fileOrder(input)], channelsLast: false)
    }

    /// The one node reading `tensor`, when it is not also a graph output.
    func onlyReader(of tensor: String) -> Onnx_NodeProto? {
        guard let nodes = readers[tensor], nodes.count == 1, !model.graph.output.contains(where: { $0.name == tensor }) else { return nil }
        return nodes[0]
    }

    /// A channel shuffle as exporters write it — Reshape `[N, C, H, W]` to `[N, g, C/g, H, W]`, Transpose
    /// `[0, 2, 1, 3, 4]`, Reshape back to `[N, C, H, W]` — built as the engine's ChannelShuffle on the channels-last
    /// value (no trip through the file's layout) when nothing else reads the tensors between. False when `node` does
    /// not start one.
    mutating func channelShuffle(_ node: Onnx_NodeProto) throws -> Bool {
        let input = try value(node)
        guard input.shape.count == 3, let split = node.output.first,
              let target = try? ints(node, "shape") ?? integers(node, 1), target.count == 5,
              target[1] > 1, target[1] * target[2] == input.shape[0], Array(target[3...]) == Array(input.shape[1...]),
              let transpose = onlyReader(of: split), transpose.opType == "Transpose", ints(transpose, "perm") == [0, 2, 1, 3, 4],
              let moved = transpose.output.first, let merge = onlyReader(of: moved), merge.opType == "Reshape",
              let back = try? ints(merge, "shape") ?? integers(merge, 1), back.count == 4,
              back[1] == input.shape[0] || back[1] == -1, Array(back[2...]) == Array(input.shape[1...]), let output = merge.output.first else {
            return false
        }
        absorbed.formUnion([moved, output])
        try emit(merge, ChannelShuffle(groups: target[1]), inputs: [try channelsLast(input, for: node)], channelsLast: true)
        return true
    }

    /// The marker of the batch size in folded shape tensors.
    static let batch = -(1 << 40)

    static func integerTensor(_ values: [Int], dims: [Int]? = nil, name: String) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.dims = (dims ?? [values.count]).map { Int64($0) }
        tensor.int64Data = values.map { Int64($0) }
        return tensor
    }

    /// A folded operator's output, from constant one-dimensional integer (or scalar) inputs.
    mutating func fold(_ node: Onnx_NodeProto) throws {
        guard let output = node.output.first, !output.isEmpty else { throw failure(node, "writes no output") }
        let inputs = try node.input.map { try $0.isEmpty ? nil : constants[$0].map { ($0.dims.map { Int($0) }, try model.integers($0)) } }
        guard let (dims, data) = inputs.first ?? nil, dims.count <= 1 else { throw failure(node, "folds a tensor of more than one axis") }
        func operand(_ position: Int) -> [Int]? { position < inputs.count ? inputs[position]?.1 : nil }
        var result: [Int], shape: [Int]? = nil
        switch node.opType {
        case "Concat":
            guard inputs.allSatisfy({ ($0?.0.count ?? 0) == 1 }) else { throw failure(node, "folds tensors that are not vectors") }
            result = inputs.flatMap { $0?.1 ?? [] }
        case "Gather":
            guard let indices = operand(1), int(node, "axis", 0) == 0 else { throw failure(node, "gathers along another axis") }
            result = try indices.map { index in
                guard (-data.count..<data.count).contains(index) else { throw failure(node, "gathers index \(index) of \(data.count)") }
                return data[index < 0 ? index + data.count : index]
            }
            if let indexDims = inputs[1]?.0, indexDims.isEmpty { shape = [] }
        case "Slice":
            let starts = ints(node, "starts") ?? operand(1) ?? [], ends = ints(node, "ends") ?? operand(2) ?? []
            let steps = operand(4) ?? [1]
            guard starts.count == 1, ends.count == 1, steps == [1], (ints(node, "axes") ?? operand(3) ?? [0]).allSatisfy({ $0 == 0 || $0 == -1 }) else {
                throw failure(node, "slices with starts \(starts), ends \(ends), steps \(steps)")
            }
            let clamp = { (index: Int) in min(max(index < 0 ? index + data.count : index, 0), data.count) }
            let (start, end) = (clamp(starts[0]), clamp(ends[0]))
            result = start < end ? Array(data[start..<end]) : []
        case "Unsqueeze":
            guard dims.isEmpty else { throw failure(node, "unsqueezes a vector") }
            result = data
        case "Squeeze":
            guard data.count == 1 else { throw failure(node, "squeezes \(data.count) values") }
            (result, shape) = (data, [])
        default:  // Cast: the integer values stay integers
            (result, shape) = (data, dims)
        }
        constants[output] = Self.integerTensor(result, dims: shape, name: output)
    }

    /// The network, its output the graph's first output in the file's layout.
    mutating func finish() throws -> Network {
        guard let name = model.graph.output.first?.name, let output = values[name] else {
            throw ModelFileError.unsupported(format: Self.format, reason: "the graph's output '\(model.graph.output.first?.name ?? "")' is not computed by a supported node")
        }
        net.outputName = try fileOrder(output)
        return net
    }
}
