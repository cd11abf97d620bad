import Foundation
import NetCore
import ProtobufSchemas
import SwiftProtobuf

/// Writing an engine network as an ONNX model: the graph as it runs (BatchNorm and activations folded into the
/// layers before them when the network was ``Network/optimized()``), float32 weights as initializers, one input
/// and one output named after the network's nodes, and a dynamic batch dimension `N`.
///
/// The file keeps ONNX's conventions: an image-shaped input or output (`[H, W, C]` on the engine) is `[N, C, H, W]`
/// in the file; other tensors keep the engine's order (YAMNet's `[N, 96, 64]` patches, CREPE's `[N, 1024]` frames).
/// Inside, each layer's ONNX operator reads the layout it needs — convolutions channels-first, reshapes and
/// dense layers over the last axis in the engine's order — and a transpose is written only where the layout
/// changes.
public enum ONNXExport {
    /// The default-domain opsets the exporter writes (ONNX 1.8 to 1.16).
    public static let opsets = 13...21
    public static let defaultOpset = 17

    /// The ONNX model of `network`, named `name` in the file. With `meanOverBatchAfter`, the output of that node is
    /// averaged over the batch before the nodes after it run: the file then takes the examples of one clip (a
    /// trained classifier's clip embedding is their mean) and gives one output row.
    /// - Throws: ``ModelFileError/unsupported(format:reason:)`` for a layer with no ONNX counterpart or an opset
    ///   outside ``opsets``.
    public static func model(_ network: Network, name: String, opset: Int = defaultOpset, meanOverBatchAfter: String? = nil) throws -> Onnx_ModelProto {
        guard opsets.contains(opset) else {
            throw ModelFileError.unsupported(format: ONNXModel.format, reason: "opset \(opset) (AudioNet writes opsets \(opsets.lowerBound)–\(opsets.upperBound))")
        }
        var writer = ONNXGraphWriter(network: network, opset: opset)
        for node in network.nodes {
            try writer.write(node)
            if node.name == meanOverBatchAfter { writer.averageOverBatch(node.name) }
        }
        var model = Onnx_ModelProto()
        model.irVersion = irVersion(opset)
        model.producerName = "AudioNet"
        model.graph = try writer.graph(name: name)
        var imported = Onnx_OperatorSetIdProto()
        imported.version = Int64(opset)
        model.opsetImport = [imported]
        return model
    }

    /// The model's bytes, as a `.onnx` file holds them.
    public static func serialized(_ network: Network, name: String, opset: Int = defaultOpset, meanOverBatchAfter: String? = nil) throws -> [UInt8] {
        let bytes: [UInt8] = try model(network, name: name, opset: opset, meanOverBatchAfter: meanOverBatchAfter).serializedBytes()
        guard bytes.count < Int(Int32.max) else {
            throw ModelFileError.unsupported(format: ONNXModel.format, reason: "a \(bytes.count)-byte model (protobuf files stop at 2 GB)")
        }
        return bytes
    }

    /// The shape (batch excluded) a tensor of engine shape `shape` has in the file: `[C, H, W]` for an image
    /// `[H, W, C]`, the engine's own otherwise.
    public static func fileShape(_ shape: [Int]) -> [Int] {
        ONNXGraphWriter.fileLayoutIsChannelsFirst(shape) ? [shape[2], shape[0], shape[1]] : shape
    }

    /// The oldest IR version that carries `opset` (onnx/onnx docs/Versioning.md).
    static func irVersion(_ opset: Int) -> Int64 {
        switch opset {
        case ...13: return 7
        case 14...18: return 8
        case 19...20: return 9
        default: return 10
        }
    }
}

/// Where an engine node's output lives in the ONNX graph.
struct WrittenValue {
    /// The ONNX tensor holding it.
    let tensor: String
    /// The engine shape, batch excluded.
    let shape: [Int]
    /// Whether the tensor holds it channels-first (`[N, C, …]`) rather than in the engine's order (`[N, …, C]`);
    /// always false below rank 2, where the two agree.
    let channelsFirst: Bool
}

/// Writes engine layers as ONNX nodes, one at a time, in the network's topological order.
struct ONNXGraphWriter {
    let network: Network
    let opset: Int
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var values: [String: WrittenValue] = [:]
    /// Tensors already written in the other layout, by source tensor and layout.
    var converted: [String: String] = [:]
    var usedNames: Set<String>
    /// Whether an average over the batch was written (the output then has one row).
    var batchIsOne = false

    init(network: Network, opset: Int) {
        self.network = network
        self.opset = opset
        usedNames = Set(network.nodeNames)
        let shape = network.inputShape
        values[network.inputName] = WrittenValue(tensor: network.inputName, shape: shape, channelsFirst: Self.fileLayoutIsChannelsFirst(shape))
    }

    /// Whether a graph input or output of this engine shape is channels-first in the file: images are.
    static func fileLayoutIsChannelsFirst(_ shape: [Int]) -> Bool { shape.count == 3 }

    func failure(_ node: Network.Node, _ why: String) -> ModelFileError {
        .unsupported(format: ONNXModel.format, reason: "\(node.layer.typeName) layer '\(node.name)' \(why)")
    }

    // MARK: Graph pieces

    /// A tensor name not yet used, from `base`.
    mutating func fresh(_ base: String) -> String {
        var name = base, suffix = 1
        while usedNames.contains(name) { suffix += 1; name = "\(base)_\(suffix)" }
        usedNames.insert(name)
        return name
    }

    /// Adds a float32 initializer and returns its name.
    mutating func constant(_ base: String, shape: [Int], _ values: [Float]) -> String {
        rawConstant(base, shape: shape, values, type: .float)
    }

    /// Adds an int8 initializer (quantized weights) and returns its name.
    mutating func int8Constant(_ base: String, shape: [Int], _ values: [Int8]) -> String {
        rawConstant(base, shape: shape, values, type: .int8)
    }

    /// Adds an initializer of `values` stored as raw little-endian bytes (as ONNX stores raw data).
    mutating func rawConstant<Element>(_ base: String, shape: [Int], _ values: [Element], type: Onnx_TensorProto.DataType) -> String {
        precondition(shape.reduce(1, *) == values.count)
        var tensor = Onnx_TensorProto()
        tensor.name = fresh(base)
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = Int32(type.rawValue)
        tensor.rawData = values.withUnsafeBytes { Data($0) }
        initializers.append(tensor)
        return tensor.name
    }

    /// Adds an int64 initializer (shapes, pads, axes) and returns its name.
    mutating func integers(_ base: String, _ values: [Int]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh(base)
        tensor.dims = [Int64(values.count)]
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values.map { Int64($0) }
        initializers.append(tensor)
        return tensor.name
    }

    /// Appends an operator reading `inputs` and writing `output`.
    mutating func emit(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Onnx_AttributeProto] = []) {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = output
        node.input = inputs
        node.output = [output]
        node.attribute = attributes
        nodes.append(node)
    }

    static func attribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.i) = (name, .int, Int64(value))
        return attribute
    }

    static func attribute(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.ints) = (name, .ints, values.map { Int64($0) })
        return attribute
    }

    static func attribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.f) = (name, .float, value)
        return attribute
    }

    static func attribute(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.s) = (name, .string, Data(value.utf8))
        return attribute
    }

    // MARK: Layouts

    /// The ONNX axis (batch first) of engine axis `axis` (batch excluded) of a rank-`rank` value.
    static func axis(_ axis: Int, rank: Int, channelsFirst: Bool) -> Int {
        guard channelsFirst else { return axis + 1 }
        return axis == rank - 1 ? 1 : axis + 2
    }

    /// The ONNX `perm` (batch first) taking a rank-`rank` value to channels-first, or back to the engine's order.
    static func permutation(toChannelsFirst: Bool, rank: Int) -> [Int] {
        toChannelsFirst ? [0, rank] + Array(1..<rank) : [0] + Array(2...rank) + [1]
    }

    /// `value`'s tensor in the requested layout, transposed once where it is held in the other.
    mutating func tensor(_ value: WrittenValue, channelsFirst wanted: Bool) -> String {
        let rank = value.shape.count
        guard rank >= 2, value.channelsFirst != wanted else { return value.tensor }
        let key = value.tensor + (wanted ? "#nchw" : "#nhwc")
        if let done = converted[key] { return done }
        let name = fresh(key)
        emit("Transpose", [value.tensor], name, [Self.attribute("perm", Self.permutation(toChannelsFirst: wanted, rank: rank))])
        converted[key] = name
        return name
    }

    /// The node's inputs as written values.
    func inputs(_ node: Network.Node) -> [WrittenValue] { node.inputs.map { values[$0]! } }

    /// Records that `node`'s output is the tensor named after it, in the given layout.
    mutating func record(_ node: Network.Node, channelsFirst: Bool) {
        let shape = network.shapes[node.name]!
        values[node.name] = WrittenValue(tensor: node.name, shape: shape, channelsFirst: channelsFirst && shape.count >= 2)
    }

    // MARK: Activations

    /// Lets `body` write a layer's linear output, then applies `activation` into `output`.
    mutating func activated(_ activation: Activation, into output: String, _ body: (inout ONNXGraphWriter, String) throws -> Void) rethrows {
        if activation == .identity { return try body(&self, output) }
        let linear = fresh(output + "#linear")
        try body(&self, linear)
        apply(activation, to: linear, into: output)
    }

    /// Writes `activation` of tensor `x` into `output`.
    mutating func apply(_ activation: Activation, to x: String, into output: String) {
        switch activation {
        case .identity: emit("Identity", [x], output)
        case .relu: emit("Relu", [x], output)
        case .relu6: apply(.clip(low: 0, high: 6), to: x, into: output)
        case .sigmoid: emit("Sigmoid", [x], output)
        case .tanh: emit("Tanh", [x], output)
        case .swish:
            let gate = fresh(output + "#sigmoid")
            emit("Sigmoid", [x], gate)
            emit("Mul", [x, gate], output)
        case .leakyReLU(let alpha): emit("LeakyRelu", [x], output, [Self.attribute("alpha", alpha)])
        case .clip(let low, let high):
            // An infinite bound is an omitted input.
            var operands = [x, low.isInfinite ? "" : constant(output + "#min", shape: [], [low]),
                            high.isInfinite ? "" : constant(output + "#max", shape: [], [high])]
            while operands.last == "" { operands.removeLast() }
            emit("Clip", operands, output)
        case .hardSigmoid(let alpha, let beta):
            emit("HardSigmoid", [x], output, [Self.attribute("alpha", alpha), Self.attribute("beta", beta)])
        case .hardSwish:
            guard opset < 14 else { return emit("HardSwish", [x], output) }
            let gate = fresh(output + "#gate")
            emit("HardSigmoid", [x], gate, [Self.attribute("alpha", Float(1) / 6), Self.attribute("beta", Float(0.5))])
            emit("Mul", [x, gate], output)
        }
    }

    // MARK: Layers

    /// Writes one engine node as ONNX operators.
    mutating func write(_ node: Network.Node) throws {
        let inputs = inputs(node)
        let input = inputs[0], output = node.name
        switch node.layer {
        case let conv as Conv2D:
            writeConvolution(conv, input: input, into: output)
            record(node, channelsFirst: true)
        case let conv as Conv1D:
            writeConvolution(conv.conv, input: input, into: output)
            record(node, channelsFirst: true)
        case let depthwise as DepthwiseConv2D:
            writeDepthwise(depthwise, input: input, into: output)
            record(node, channelsFirst: true)
        case let fused as ExpandedDepthwise:  // one layer where AudioNet runs it, two operators in the file
            let expanded = WrittenValue(tensor: fresh(output + "#expanded"), shape: try fused.expand.outputShape(for: [input.shape]),
                                        channelsFirst: true)
            switch fused.expansion {
            case .float32(let conv, _): writeConvolution(conv, input: input, into: expanded.tensor)
            case .int8(let linear):
                activated(linear.activation, into: expanded.tensor) { writer, target in
                    writer.writeInt8Convolution(linear, name: output + "#expand", input: input, into: target)
                }
            }
            writeDepthwise(fused.depthwise, input: expanded, into: output)
            record(node, channelsFirst: true)
        case let fused as ProjectionAdd:  // a Conv and an Add in the file
            let projected = fresh(output + "#projected")
            switch fused.projection {
            case .float32(let conv, _): writeConvolution(conv, input: input, into: projected)
            case .int8(let linear): writeInt8Convolution(linear, name: output, input: input, into: projected)
            }
            let residual = tensor(inputs[1], channelsFirst: true)
            activated(fused.activation, into: output) { writer, target in writer.emit("Add", [projected, residual], target) }
            record(node, channelsFirst: true)
        case let fused as ScaledProjection:  // a Mul, a Conv and (after a ProjectionAdd) an Add in the file
            let scaled = WrittenValue(tensor: fresh(output + "#scaled"), shape: input.shape, channelsFirst: true)
            emit("Mul", [tensor(input, channelsFirst: true), tensor(inputs[1], channelsFirst: true)], scaled.tensor)
            guard let activation = fused.residualActivation else {
                writeConvolution(fused.projection, input: scaled, into: output)
                record(node, channelsFirst: true)
                break
            }
            let projected = fresh(output + "#projected")
            writeConvolution(fused.projection, input: scaled, into: projected)
            let residual = tensor(inputs[2], channelsFirst: true)
            activated(activation, into: output) { writer, target in writer.emit("Add", [projected, residual], target) }
            record(node, channelsFirst: true)
        case let dense as Dense:
            try writeDense(node, dense, input: input)
        case let linear as Int8Linear:
            try writeInt8Linear(node, linear, input: input)
        case let conv as Int8Conv2D:
            activated(conv.product.activation, into: output) { writer, target in
                writer.writeInt8Convolution(conv.product, window: conv, name: output, input: input, into: target)
            }
            record(node, channelsFirst: true)
        case let norm as BatchNorm:
            let x = tensor(input, channelsFirst: true), channels = norm.scale.count
            let parameters = [("scale", norm.scale), ("shift", norm.shift), ("mean", [Float](repeating: 0, count: channels)),
                              ("variance", [Float](repeating: 1, count: channels))].map { constant(output + "." + $0.0, shape: [channels], $0.1) }
            // scale and shift are folded already: (x − 0) / √(1 + 0) · scale + shift.
            emit("BatchNormalization", [x] + parameters, output, [Self.attribute("epsilon", Float(0))])
            record(node, channelsFirst: true)
        case let layer as ActivationLayer:
            apply(layer.activation, to: input.tensor, into: output)
            record(node, channelsFirst: input.channelsFirst)
        case let softmax as Softmax:
            let axis = Self.axis(input.shape.count - 1, rank: input.shape.count, channelsFirst: input.channelsFirst)
            emit(softmax.logarithm ? "LogSoftmax" : "Softmax", [input.tensor], output, [Self.attribute("axis", axis)])
            record(node, channelsFirst: input.channelsFirst)
        case let pool as Pool2D:
            let x = tensor(input, channelsFirst: true)
            var attributes = [Self.attribute("kernel_shape", [pool.kernel.height, pool.kernel.width]),
                              Self.attribute("strides", [pool.stride.y, pool.stride.x]),
                              Self.attribute("pads", Self.pads(pool.padding, input: input.shape, kernel: pool.kernel, stride: pool.stride)),
                              Self.attribute("ceil_mode", pool.ceilMode ? 1 : 0)]
            if pool.kind == .average { attributes.append(Self.attribute("count_include_pad", pool.countIncludesPadding ? 1 : 0)) }
            emit(pool.kind == .max ? "MaxPool" : "AveragePool", [x], output, attributes)
            record(node, channelsFirst: true)
        case is GlobalAveragePool:
            let pooled = fresh(output + "#pooled")
            emit("GlobalAveragePool", [tensor(input, channelsFirst: true)], pooled)
            emit("Flatten", [pooled], output, [Self.attribute("axis", 1)])
            record(node, channelsFirst: false)
        case let add as Add:
            let layout = input.channelsFirst
            let operands = inputs.map { tensor($0, channelsFirst: layout) }
            activated(add.activation, into: output) { writer, target in
                var sum = operands[0]
                for (index, operand) in operands.dropFirst().enumerated() {
                    let partial = index == operands.count - 2 ? target : writer.fresh(output + "#sum")
                    writer.emit("Add", [sum, operand], partial)
                    sum = partial
                }
            }
            record(node, channelsFirst: layout)
        case is Multiply:
            try writeBroadcasting(node, "Mul", inputs)
        case let arithmetic as Arithmetic:
            if let operand = arithmetic.constant {
                try writeWithConstant(node, arithmetic.operation.rawValue, input: input, constant: operand, constantFirst: arithmetic.constantFirst)
            } else {
                try writeBroadcasting(node, arithmetic.operation.rawValue, inputs)
            }
        case let concat as Concat:
            let layout = input.channelsFirst, rank = input.shape.count
            let axis = concat.axis < 0 ? concat.axis + rank : concat.axis
            emit("Concat", inputs.map { tensor($0, channelsFirst: layout) }, output,
                 [Self.attribute("axis", Self.axis(axis, rank: rank, channelsFirst: layout))])
            record(node, channelsFirst: layout)
        case is Flatten:
            emit("Flatten", [tensor(input, channelsFirst: false)], output, [Self.attribute("axis", 1)])
            record(node, channelsFirst: false)
        case is Reshape:
            let shape = integers(output + "#shape", [0] + network.shapes[output]!)  // 0 keeps the batch
            emit("Reshape", [tensor(input, channelsFirst: false), shape], output)
            record(node, channelsFirst: false)
        case let permute as Permute:
            emit("Transpose", [tensor(input, channelsFirst: false)], output, [Self.attribute("perm", [0] + permute.axes.map { $0 + 1 })])
            record(node, channelsFirst: false)
        case let pad as ZeroPad2D:
            let pads = integers(output + "#pads", [0, 0, pad.top, pad.left, 0, 0, pad.bottom, pad.right])
            emit("Pad", [tensor(input, channelsFirst: true), pads], output)
            record(node, channelsFirst: true)
        case is Dropout:
            emit("Identity", [input.tensor], output)
            record(node, channelsFirst: input.channelsFirst)
        case let shuffle as ChannelShuffle:
            try writeChannelShuffle(node, groups: shuffle.groups, input: input)
        case let slice as ChannelSlice:
            let rank = input.shape.count
            let bounds = [integers(output + "#starts", [slice.range.lowerBound]), integers(output + "#ends", [slice.range.upperBound]),
                          integers(output + "#axes", [Self.axis(rank - 1, rank: rank, channelsFirst: input.channelsFirst)])]
            emit("Slice", [input.tensor] + bounds, output)
            record(node, channelsFirst: input.channelsFirst)
        case let norm as LocalResponseNorm:
            // ONNX sums floor((n−1)/2) channels before and ceil((n−1)/2) after; the engine (as PyTorch) the other
            // way round: they agree for odd sizes only.
            guard norm.size % 2 == 1 else { throw failure(node, "has an even size \(norm.size), where ONNX's LRN window differs") }
            emit("LRN", [tensor(input, channelsFirst: true)], output,
                 [Self.attribute("size", norm.size), Self.attribute("alpha", norm.alpha), Self.attribute("beta", norm.beta), Self.attribute("bias", norm.k)])
            record(node, channelsFirst: true)
        case let resize as Resize2D:
            writeResize(node, resize, input: input)
        case let transposed as ConvTranspose2D:
            writeTransposedConvolution(node, transposed, input: input)
        default:
            throw failure(node, "has no ONNX counterpart in AudioNet's exporter (export the float32 network)")
        }
    }

    /// ONNX `pads` (begins, then ends, per spatial axis) of a window over `input` (`[H, W, C]`, or `[L, C]`).
    static func pads(_ padding: Padding, input: [Int], kernel: (height: Int, width: Int), stride: (y: Int, x: Int),
                     dilation: (y: Int, x: Int) = (1, 1)) -> [Int] {
        let spatial = input.count == 3 ? (input[0], input[1]) : (1, input[0])
        let vertical = padding.pads(input: spatial.0, kernel: kernel.height, stride: stride.y, dilation: dilation.y, axis: 0)
        let horizontal = padding.pads(input: spatial.1, kernel: kernel.width, stride: stride.x, dilation: dilation.x, axis: 1)
        return input.count == 3 ? [vertical.before, horizontal.before, vertical.after, horizontal.after] : [horizontal.before, horizontal.after]
    }

    /// A convolution (2-D, or 1-D as a height-1 ``Conv2D``): HWIO weights become OIHW (OIW in 1-D).
    mutating func writeConvolution(_ conv: Conv2D, input: WrittenValue, into output: String) {
        let oneDimensional = input.shape.count == 2
        let (kh, kw, perGroup, outputs) = (conv.kernel.height, conv.kernel.width, conv.inputChannels / conv.groups, conv.outputChannels)
        let hwio = conv.weights  // read once: a convolution that keeps only spectra makes them on each read
        var weights = [Float](repeating: 0, count: hwio.count)
        for y in 0..<kh { for x in 0..<kw { for i in 0..<perGroup { for o in 0..<outputs {
            weights[((o * perGroup + i) * kh + y) * kw + x] = hwio[((y * kw + x) * perGroup + i) * outputs + o]
        } } } }
        let shape = oneDimensional ? [outputs, perGroup, kw] : [outputs, perGroup, kh, kw]
        var operands = [tensor(input, channelsFirst: true), constant(output + ".weight", shape: shape, weights)]
        if conv.hasBias { operands.append(constant(output + ".bias", shape: [outputs], conv.bias)) }
        let spatial = { (pair: (Int, Int)) in oneDimensional ? [pair.1] : [pair.0, pair.1] }
        let attributes = [Self.attribute("kernel_shape", spatial((kh, kw))), Self.attribute("strides", spatial(conv.stride)),
                          Self.attribute("dilations", spatial(conv.dilation)), Self.attribute("group", conv.groups),
                          Self.attribute("pads", Self.pads(conv.padding, input: input.shape, kernel: conv.kernel, stride: conv.stride, dilation: conv.dilation))]
        activated(conv.activation, into: output) { writer, target in writer.emit("Conv", operands, target, attributes) }
    }

    /// A depthwise convolution: a Conv with one group per input channel, weights `[C·M, 1, kh, kw]`.
    mutating func writeDepthwise(_ conv: DepthwiseConv2D, input: WrittenValue, into output: String) {
        let (kh, kw) = (conv.kernel.height, conv.kernel.width), outputs = conv.channels * conv.multiplier
        var weights = [Float](repeating: 0, count: conv.weights.count)
        for y in 0..<kh { for x in 0..<kw { for o in 0..<outputs { weights[(o * kh + y) * kw + x] = conv.weights[(y * kw + x) * outputs + o] } } }
        var operands = [tensor(input, channelsFirst: true), constant(output + ".weight", shape: [outputs, 1, kh, kw], weights)]
        if conv.hasBias { operands.append(constant(output + ".bias", shape: [outputs], conv.bias)) }
        let attributes = [Self.attribute("kernel_shape", [kh, kw]), Self.attribute("strides", [conv.stride.y, conv.stride.x]),
                          Self.attribute("dilations", [conv.dilation.y, conv.dilation.x]), Self.attribute("group", conv.channels),
                          Self.attribute("pads", Self.pads(conv.padding, input: input.shape, kernel: conv.kernel, stride: conv.stride, dilation: conv.dilation))]
        activated(conv.activation, into: output) { writer, target in writer.emit("Conv", operands, target, attributes) }
    }

    /// A dense layer: Gemm on `[N, in]`, else MatMul over the last axis and a bias Add.
    mutating func writeDense(_ node: Network.Node, _ dense: Dense, input: WrittenValue) throws {
        let output = node.name
        let weights = constant(output + ".weight", shape: [dense.inputFeatures, dense.outputFeatures], dense.weights)
        let bias = constant(output + ".bias", shape: [dense.outputFeatures], dense.bias)
        let x = tensor(input, channelsFirst: false)
        activated(dense.activation, into: output) { writer, target in
            if input.shape.count == 1 { return writer.emit("Gemm", [x, weights, bias], target) }
            let product = writer.fresh(output + "#product")
            writer.emit("MatMul", [x, weights], product)
            writer.emit("Add", [product, bias], target)
        }
        record(node, channelsFirst: false)
    }

    /// An int8 layer (`--precision int8`) in QDQ form: its int8 weights and per-output scales as a DequantizeLinear
    /// (per axis, zero point 0) feeding a 1×1 Conv on feature maps or a MatMul elsewhere, in float32. The file
    /// holds AudioNet's quantized weights exactly; activations stay float32 (ONNX has no operator for the
    /// per-row dynamic quantization AudioNet runs them with).
    mutating func writeInt8Linear(_ node: Network.Node, _ linear: Int8Linear, input: WrittenValue) throws {
        let output = node.name
        if input.shape.count == 3 {
            activated(linear.activation, into: output) { writer, target in
                writer.writeInt8Convolution(linear, name: output, input: input, into: target)
            }
            return record(node, channelsFirst: true)
        }
        let (dequantized, bias) = int8Operands(linear, name: output, featureMap: false)
        let x = tensor(input, channelsFirst: false)
        activated(linear.activation, into: output) { writer, target in
            if input.shape.count == 1 { return writer.emit("Gemm", [x, dequantized] + [bias].compactMap { $0 }, target) }
            guard let bias else { return writer.emit("MatMul", [x, dequantized], target) }
            let product = writer.fresh(output + "#product")
            writer.emit("MatMul", [x, dequantized], product)
            writer.emit("Add", [product, bias], target)
        }
        record(node, channelsFirst: false)
    }

    /// An int8 layer's weights as a DequantizeLinear of its int8 codes (Conv's `[O, I, kh, kw]` on a feature map, MatMul's
    /// `[I, O]` elsewhere) and its bias, if it has one, as a constant. The codes' rows are `kernel` taps of `I` channels.
    mutating func int8Operands(_ linear: Int8Linear, name: String, featureMap: Bool, kernel: (height: Int, width: Int) = (1, 1))
        -> (weights: String, bias: String?) {
        let (depth, outputs) = (linear.inputFeatures, linear.outputFeatures), codes = linear.weightCodes
        let (kh, kw) = kernel, inputs = depth / (kh * kw)
        var weights = codes, shape = [depth, outputs]
        if featureMap {
            for y in 0..<kh { for x in 0..<kw { for i in 0..<inputs { for o in 0..<outputs {
                weights[((o * inputs + i) * kh + y) * kw + x] = codes[((y * kw + x) * inputs + i) * outputs + o]
            } } } }
            shape = [outputs, inputs, kh, kw]
        }
        let dequantized = fresh(name + ".weight")
        emit("DequantizeLinear", [int8Constant(name + ".weight_int8", shape: shape, weights),
                                  constant(name + ".weight_scale", shape: [outputs], linear.weightScales)],
             dequantized, [Self.attribute("axis", featureMap ? 0 : 1)])
        let bias = linear.hasBias || linear.bias.contains(where: { $0 != 0 }) ? constant(name + ".bias", shape: [outputs], linear.bias) : nil
        return (dequantized, bias)
    }

    /// An int8 convolution of a feature map — 1×1 (an ``Int8Linear``), or the product of an ``Int8Conv2D``'s `window` —
    /// as a Conv on its dequantized weights, written to `target` before its activation.
    mutating func writeInt8Convolution(_ linear: Int8Linear, window: Int8Conv2D? = nil, name: String, input: WrittenValue,
                                       into target: String) {
        let kernel: (height: Int, width: Int) = window?.kernel ?? (1, 1)
        let (weights, bias) = int8Operands(linear, name: name, featureMap: true, kernel: kernel)
        var attributes = [Self.attribute("kernel_shape", [kernel.height, kernel.width])]
        if let window {
            attributes += [Self.attribute("strides", [window.stride.y, window.stride.x]),
                           Self.attribute("dilations", [window.dilation.y, window.dilation.x]),
                           Self.attribute("pads", Self.pads(window.padding, input: input.shape, kernel: window.kernel, stride: window.stride,
                                                            dilation: window.dilation))]
        }
        emit("Conv", [tensor(input, channelsFirst: true), weights] + [bias].compactMap { $0 }, target, attributes)
    }

    /// A two-input operator with NumPy broadcasting of the examples (the batch axes stay aligned): operands of
    /// one rank meet in the first one's layout; otherwise the shorter one gains leading unit axes in engine order.
    mutating func writeBroadcasting(_ node: Network.Node, _ op: String, _ inputs: [WrittenValue]) throws {
        let (a, b) = (inputs[0], inputs[1])
        if a.shape.count == b.shape.count {
            emit(op, [a.tensor, tensor(b, channelsFirst: a.channelsFirst)], node.name)
            return record(node, channelsFirst: a.channelsFirst)
        }
        let rank = max(a.shape.count, b.shape.count)
        let operands = [a, b].map { value -> String in
            let x = tensor(value, channelsFirst: false)
            guard value.shape.count < rank else { return x }
            let lifted = fresh(node.name + "#lifted")
            let shape = integers(node.name + "#shape", [0] + [Int](repeating: 1, count: rank - value.shape.count) + value.shape)
            emit("Reshape", [x, shape], lifted)
            return lifted
        }
        emit(op, operands, node.name)
        record(node, channelsFirst: false)
    }

    /// A two-operand operator with one constant operand, stored at the output's full rank in the input's layout.
    mutating func writeWithConstant(_ node: Network.Node, _ op: String, input: WrittenValue, constant: Tensor, constantFirst: Bool) throws {
        let rank = network.shapes[node.name]!.count
        guard input.shape.count == rank else { throw failure(node, "has a constant of higher rank than its input") }
        var operand = Tensor(shape: [Int](repeating: 1, count: rank - constant.shape.count) + constant.shape, scalars: constant.scalars)
        let layout = input.channelsFirst
        if layout { operand = operand.permuted([rank - 1] + Array(0..<(rank - 1))) }
        let name = self.constant(node.name + ".constant", shape: [1] + operand.shape, operand.scalars)
        emit(op, constantFirst ? [name, input.tensor] : [input.tensor, name], node.name)
        record(node, channelsFirst: layout)
    }

    /// ShuffleNet's channel shuffle: channels viewed as `[g, C/g]`, transposed, and flattened back.
    mutating func writeChannelShuffle(_ node: Network.Node, groups: Int, input: WrittenValue) throws {
        let output = node.name, shape = input.shape, channels = shape.last!
        let layout = shape.count == 3
        let x = tensor(input, channelsFirst: layout)
        let spatial = Array(shape.dropLast())
        let grouped = layout ? [0, groups, channels / groups] + spatial : [0] + spatial + [groups, channels / groups]
        let first = layout ? 1 : spatial.count + 1
        var permutation = Array(0..<grouped.count)
        permutation.swapAt(first, first + 1)
        let (viewed, swapped) = (fresh(output + "#grouped"), fresh(output + "#swapped"))
        emit("Reshape", [x, integers(output + "#groups", grouped)], viewed)
        emit("Transpose", [viewed], swapped, [Self.attribute("perm", permutation)])
        emit("Reshape", [swapped, integers(output + "#shape", layout ? [0, channels] + spatial : [0] + shape)], output)
        record(node, channelsFirst: layout)
    }

    /// Resizing: the file's scales, or the output sizes (of the spatial axes with opset 18's `axes`).
    mutating func writeResize(_ node: Network.Node, _ resize: Resize2D, input: WrittenValue) {
        let output = node.name, x = tensor(input, channelsFirst: true)
        var attributes = [Self.attribute("mode", resize.mode == .nearest ? "nearest" : "linear"),
                          Self.attribute("coordinate_transformation_mode", resize.coordinates.rawValue)]
        if resize.mode == .nearest { attributes.append(Self.attribute("nearest_mode", resize.rounding.rawValue)) }
        let operands: [String]
        if let scales = resize.scales {
            operands = [x, "", constant(output + "#scales", shape: [4], [1, 1, Float(scales.y), Float(scales.x)])]
        } else if opset >= 18 {
            attributes.append(Self.attribute("axes", [2, 3]))
            operands = [x, "", "", integers(output + "#sizes", [resize.height, resize.width])]
        } else {
            // Before opset 18 sizes cover every axis, the batch too: `[N, C]` of the input's shape, then H and W
            // (float scales would round 5 · 7/5 down to 6).
            let (shape, leading, sizes) = (fresh(output + "#shape"), fresh(output + "#batchAndChannels"), fresh(output + "#sizes"))
            emit("Shape", [x], shape)
            emit("Slice", [shape, integers(output + "#start", [0]), integers(output + "#end", [2])], leading)
            emit("Concat", [leading, integers(output + "#size", [resize.height, resize.width])], sizes, [Self.attribute("axis", 0)])
            operands = [x, "", "", sizes]
        }
        emit("Resize", operands, output, attributes)
        record(node, channelsFirst: true)
    }

    /// A transposed convolution: weights `[Cin, kh, kw, Cout]` become ONNX's `[Cin, Cout, kh, kw]`, crops its `pads`.
    mutating func writeTransposedConvolution(_ node: Network.Node, _ conv: ConvTranspose2D, input: WrittenValue) {
        let output = node.name, (kh, kw, cin, cout) = (conv.kernel.height, conv.kernel.width, conv.inputChannels, conv.outputChannels)
        var weights = [Float](repeating: 0, count: conv.weights.count)
        for i in 0..<cin { for y in 0..<kh { for x in 0..<kw { for o in 0..<cout {
            weights[((i * cout + o) * kh + y) * kw + x] = conv.weights[((i * kh + y) * kw + x) * cout + o]
        } } } }
        let operands = [tensor(input, channelsFirst: true), constant(output + ".weight", shape: [cin, cout, kh, kw], weights),
                        constant(output + ".bias", shape: [cout], conv.bias)]
        emit("ConvTranspose", operands, output, [
            Self.attribute("kernel_shape", [kh, kw]), Self.attribute("strides", [conv.stride.y, conv.stride.x]),
            Self.attribute("dilations", [conv.dilation.y, conv.dilation.x]),
            Self.attribute("pads", [conv.crop.top, conv.crop.left, conv.crop.bottom, conv.crop.right]),
            Self.attribute("output_padding", [conv.outputPadding.height, conv.outputPadding.width]),
        ])
        record(node, channelsFirst: true)
    }

    /// Replaces node `name`'s value by its mean over the batch (one row); the output's batch is then 1.
    mutating func averageOverBatch(_ name: String) {
        let value = values[name]!, mean = fresh(name + "#mean")
        if opset >= 18 {
            emit("ReduceMean", [value.tensor, integers(name + "#axes", [0])], mean, [Self.attribute("keepdims", 1)])
        } else {
            emit("ReduceMean", [value.tensor], mean, [Self.attribute("axes", [0]), Self.attribute("keepdims", 1)])
        }
        values[name] = WrittenValue(tensor: mean, shape: value.shape, channelsFirst: value.channelsFirst)
        batchIsOne = true
    }

    // MARK: The graph

    /// The graph: its input, nodes, initializers and output, the output transposed to the file's layout if need be.
    mutating func graph(name: String) throws -> Onnx_GraphProto {
        let outputName = network.outputName
        guard var result = values[outputName] else {
            throw ModelFileError.unsupported(format: ONNXModel.format, reason: "the network has no output")
        }
        guard outputName != network.inputName else {
            throw ModelFileError.unsupported(format: ONNXModel.format, reason: "the network has no layers")
        }
        let wanted = Self.fileLayoutIsChannelsFirst(result.shape)
        if result.channelsFirst != wanted {
            // The output's own name goes to the graph output: the layer writing it now writes an inner tensor.
            let inner = fresh(outputName + (wanted ? "#nhwc" : "#nchw"))
            for index in nodes.indices {
                nodes[index].input = nodes[index].input.map { $0 == outputName ? inner : $0 }
                nodes[index].output = nodes[index].output.map { $0 == outputName ? inner : $0 }
            }
            let rank = result.shape.count
            emit("Transpose", [inner], outputName, [Self.attribute("perm", Self.permutation(toChannelsFirst: wanted, rank: rank))])
            result = WrittenValue(tensor: outputName, shape: result.shape, channelsFirst: wanted)
        }
        var graph = Onnx_GraphProto()
        graph.name = name
        graph.node = nodes
        graph.initializer = initializers
        let input = values[network.inputName]!
        graph.input = [Self.valueInfo(network.inputName, input)]
        graph.output = [Self.valueInfo(outputName, result, batch: batchIsOne ? 1 : nil)]
        return graph
    }

    /// A float32 tensor's declaration: batch `N` (or `batch`), then the example's sizes in the tensor's layout.
    static func valueInfo(_ name: String, _ value: WrittenValue, batch: Int? = nil) -> Onnx_ValueInfoProto {
        let shape = value.channelsFirst ? [value.shape.last!] + value.shape.dropLast() : value.shape
        var dimensions = [Onnx_TensorShapeProto.Dimension()]
        if let batch { dimensions[0].dimValue = Int64(batch) } else { dimensions[0].dimParam = "N" }
        for size in shape {
            var dimension = Onnx_TensorShapeProto.Dimension()
            dimension.dimValue = Int64(size)
            dimensions.append(dimension)
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        info.type.tensorType.shape.dim = dimensions
        return info
    }
}
