import Foundation
import NetCore
import Platform
import ProtobufSchemas
import SwiftProtobuf

/// A Caffe network: its definition (`.prototxt`, protobuf text) and, when given, its trained blobs (`.caffemodel`,
/// protobuf binary; the `layer` or the older `layers` form), both read through the schema generated from BVLC
/// Caffe's caffe.proto.
public struct CaffeModel: Sendable {
    static let format = "Caffe"
    /// The layer types ``network()`` reads.
    public static let layerTypes = ["Input", "Convolution", "InnerProduct", "Pooling", "LRN", "ReLU", "Sigmoid", "TanH", "Concat",
                                    "Eltwise", "Dropout", "Softmax", "BatchNorm", "Scale", "Flatten"]

    public let definition: Caffe_NetParameter
    /// Each layer's trained blobs by layer name; nil: no weights (placeholder zeros, for layer tables).
    let blobs: [String: [Caffe_BlobProto]]?

    /// Reads a definition and, optionally, its weights.
    public init(prototxt: String, caffemodel: String?) throws {
        do {
            let text = String(decoding: try RegularFile.read(prototxt, limit: 64 << 20), as: UTF8.self)
            try self.init(definition: text, weights: try caffemodel.map { try RegularFile.read($0, limit: Int(Int32.max)) })  // protobuf's 2 GB
        } catch let error as RegularFile.Failure {
            throw ModelFileError.malformed(format: Self.format, reason: error.description)
        }
    }

    /// Parses a definition (protobuf text) and, optionally, weights (protobuf binary).
    public init(definition text: String, weights: [UInt8]?) throws {
        do {
            definition = try Caffe_NetParameter(textFormatString: text)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: "not a Caffe network definition (\(error))")
        }
        guard let weights else { blobs = nil; return }
        let trained: Caffe_NetParameter
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 32
            trained = try Caffe_NetParameter(serializedBytes: weights, options: options)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: "not a Caffe weight file (\(error))")
        }
        let named = trained.layer.map { ($0.name, $0.blobs) } + trained.layers.map { ($0.name, $0.blobs) }
        blobs = Dictionary(named.filter { !$0.1.isEmpty }, uniquingKeysWith: { first, _ in first })
    }

    /// The network on the engine. Its input is the definition's one input blob in Caffe's own layout (`[N, C, H, W]`),
    /// or `[N, H, W, C]` with `channelsLast` (the catalog's image networks); inside, feature maps run channels-last, and
    /// the first node turns a channels-first input so. Node names are the layer names, so `--layer` takes any of them
    /// (an in-place layer's output is its own node). Pooling rounds up, as Caffe does; inner products read their input
    /// in Caffe's `C, H, W` order.
    public func network(channelsLast: Bool = false) throws -> Network {
        guard definition.layers.isEmpty else {
            throw ModelFileError.unsupported(format: Self.format, reason: "a definition in the V1 'layers' form (upgrade it with Caffe's upgrade_net_proto_text)")
        }
        var builder = try CaffeGraphBuilder(model: self, channelsLast: channelsLast)
        for layer in definition.layer { try builder.add(layer) }
        return builder.net
    }
}

/// Turns Caffe layers into engine layers in the definition's order.
struct CaffeGraphBuilder {
    let model: CaffeModel
    var net: Network
    /// The engine node holding each blob now (an in-place layer moves its blob to its own node).
    var blobs: [String: String] = [:]

    init(model: CaffeModel, channelsLast: Bool) throws {
        self.model = model
        let definition = model.definition
        var name = definition.input.first, dims = definition.inputShape.first?.dim.map { Int($0) } ?? definition.inputDim.map { Int($0) }
        if let input = definition.layer.first(where: { $0.type == "Input" }) {
            name = input.top.first
            dims = input.inputParam.shape.first?.dim.map { Int($0) } ?? []
        }
        guard let name, dims.count == 4, dims.dropFirst().allSatisfy({ $0 > 0 && $0 < 1 << 16 }) else {
            throw ModelFileError.unsupported(format: CaffeModel.format, reason: "an input of shape \(dims) (AudioNet reads one [N, C, H, W] input)")
        }
        if channelsLast {
            net = Network(inputShape: [dims[2], dims[3], dims[1]], inputName: name)
            blobs[name] = name
        } else {
            net = Network(inputShape: Array(dims.dropFirst()), inputName: name)
            blobs[name] = try net.add(name + "#nhwc", Permute([1, 2, 0]))
        }
    }

    func failure(_ layer: Caffe_LayerParameter, _ why: String) -> ModelFileError {
        .unsupported(format: CaffeModel.format, reason: "\(layer.type) layer '\(layer.name)' \(why)")
    }

    /// The layer's `index`-th blob with `count` values (zeros without weights), checked against its size.
    func blob(_ layer: Caffe_LayerParameter, _ index: Int, count: Int) throws -> [Float] {
        guard let trained = model.blobs else { return [Float](repeating: 0, count: count) }
        guard let blobs = trained[layer.name], index < blobs.count else {
            throw ModelFileError.malformed(format: CaffeModel.format, reason: "the weights hold no blob \(index) for layer '\(layer.name)'")
        }
        let blob = blobs[index]
        let values = blob.data.isEmpty ? blob.doubleData.map { Float($0) } : blob.data
        guard values.count == count else {
            throw ModelFileError.malformed(format: CaffeModel.format, reason: "blob \(index) of layer '\(layer.name)' holds \(values.count) values, where the definition needs \(count)")
        }
        return values
    }

    /// Placeholder weights counted so far (a definition without weights).
    var placeholders = PlaceholderWeights()

    /// The number of weights of `dimensions`, refused past 2²⁸ in a layer (1 GB; VGG's largest layer has 103 M) or on
    /// overflow, and without weights past ``PlaceholderWeights/limit`` in all, so a crafted definition can neither trap
    /// nor make placeholder weights exhaust memory.
    mutating func weightCount(_ layer: Caffe_LayerParameter, _ dimensions: [Int]) throws -> Int {
        guard let count = CheckedSize.elementCount(dimensions), count <= 1 << 28 else {
            throw failure(layer, "has \(dimensions.map(String.init).joined(separator: "×")) weights (AudioNet: at most 2^28 per layer)")
        }
        if model.blobs == nil { try placeholders.add(count, format: CaffeModel.format, for: "\(layer.type) layer '\(layer.name)'") }
        return count
    }

    /// The shape of the layer's one input blob, and the engine node holding it.
    func input(_ layer: Caffe_LayerParameter) throws -> (node: String, shape: [Int]) {
        guard layer.bottom.count == 1, let node = blobs[layer.bottom[0]] else {
            throw failure(layer, "reads \(layer.bottom) (one blob written before it is needed)")
        }
        return (node, net.shapes[node]!)
    }

    /// Adds `engine` as the layer's node, reading `inputs`, and makes it the holder of the layer's top blob.
    mutating func emit(_ layer: Caffe_LayerParameter, _ engine: any Layer, inputs: [String]) throws {
        guard layer.top.count == 1 else { throw failure(layer, "writes \(layer.top.count) blobs (AudioNet: one)") }
        blobs[layer.top[0]] = try net.add(layer.name, engine, inputs: inputs)
    }

    /// A window parameter given as a repeated field or as its `_h`/`_w` pair, or `fallback`.
    static func pair(_ values: [UInt32], _ height: UInt32?, _ width: UInt32?, _ fallback: Int) -> (Int, Int) {
        if let height, let width { return (Int(height), Int(width)) }
        guard let first = values.first else { return (fallback, fallback) }
        return (Int(first), Int(values.count > 1 ? values[1] : first))
    }

    mutating func add(_ layer: Caffe_LayerParameter) throws {
        guard !layer.include.contains(where: { $0.hasPhase && $0.phase == .train }) else { return }
        switch layer.type {
        case "Input": return
        case "Convolution": try convolution(layer)
        case "InnerProduct": try innerProduct(layer)
        case "Pooling": try pooling(layer)
        case "LRN":
            let parameters = layer.lrnParam, (node, _) = try input(layer)
            guard parameters.normRegion == .acrossChannels, parameters.localSize % 2 == 1 else {
                throw failure(layer, "normalizes \(parameters.normRegion == .acrossChannels ? "over an even window" : "within channels") (AudioNet: across channels, odd sizes)")
            }
            try emit(layer, LocalResponseNorm(size: Int(parameters.localSize), alpha: parameters.alpha, beta: parameters.beta, k: parameters.k), inputs: [node])
        case "ReLU":
            let slope = layer.reluParam.negativeSlope
            try emit(layer, ActivationLayer(slope == 0 ? .relu : .leakyReLU(alpha: slope)), inputs: [try input(layer).node])
        case "Sigmoid": try emit(layer, ActivationLayer(.sigmoid), inputs: [try input(layer).node])
        case "TanH": try emit(layer, ActivationLayer(.tanh), inputs: [try input(layer).node])
        case "Dropout": try emit(layer, Dropout(rate: layer.dropoutParam.dropoutRatio), inputs: [try input(layer).node])
        case "Softmax":
            let (node, shape) = try input(layer)
            guard layer.softmaxParam.axis == 1, shape.count == 1 || shape.count == 3 else { throw failure(layer, "is over axis \(layer.softmaxParam.axis) (AudioNet: the channels)") }
            try emit(layer, Softmax(), inputs: [node])
        case "Concat":
            let axis = layer.concatParam.hasConcatDim ? Int(layer.concatParam.concatDim) : Int(layer.concatParam.axis)
            guard axis == 1 else { throw failure(layer, "joins axis \(axis) (AudioNet: the channels, axis 1)") }
            let inputs = try layer.bottom.map { bottom -> String in
                guard let node = blobs[bottom] else { throw failure(layer, "reads '\(bottom)', which no layer wrote") }
                return node
            }
            try emit(layer, Concat(), inputs: inputs)
        case "Eltwise":
            let inputs = try layer.bottom.map { bottom -> String in
                guard let node = blobs[bottom] else { throw failure(layer, "reads '\(bottom)', which no layer wrote") }
                return node
            }
            let parameters = layer.eltwiseParam
            guard parameters.coeff.allSatisfy({ $0 == 1 }), parameters.operation != .max, inputs.count == 2 || parameters.operation == .sum else {
                throw failure(layer, "is a \(parameters.operation) of \(inputs.count) blobs with coefficients \(parameters.coeff) (AudioNet: sums, products of two)")
            }
            try emit(layer, parameters.operation == .sum ? Add() as any Layer : Multiply(), inputs: inputs)
        case "BatchNorm":
            let (node, shape) = try input(layer), channels = shape.last ?? 0
            // Caffe keeps running sums with their scale factor in blob 2 (zero: untrained).
            let factor = try blob(layer, 2, count: 1)[0], divisor = factor == 0 ? 0 : 1 / factor
            let mean = try blob(layer, 0, count: channels).map { $0 * divisor }, variance = try blob(layer, 1, count: channels).map { $0 * divisor }
            try emit(layer, BatchNorm(gamma: nil, beta: [Float](repeating: 0, count: channels), mean: mean, variance: variance,
                                      epsilon: layer.batchNormParam.eps), inputs: [node])
        case "Scale":
            let (node, shape) = try input(layer), channels = shape.last ?? 0
            let bias = layer.scaleParam.biasTerm ? try blob(layer, 1, count: channels) : [Float](repeating: 0, count: channels)
            // γ·x + β as a BatchNorm of zero mean and unit variance, so it folds into the convolution before it.
            try emit(layer, BatchNorm(gamma: try blob(layer, 0, count: channels), beta: bias, mean: [Float](repeating: 0, count: channels),
                                      variance: [Float](repeating: 1, count: channels), epsilon: 0), inputs: [node])
        case "Flatten":
            try emit(layer, Flatten(), inputs: [try caffeOrder(layer)])
        default:
            throw failure(layer, "is not supported (AudioNet reads \(CaffeModel.layerTypes.joined(separator: ", ")))")
        }
    }

    /// The layer's input in Caffe's `C, H, W` order, where a flattening reads it (a permute unless H·W or C is 1).
    mutating func caffeOrder(_ layer: Caffe_LayerParameter) throws -> String {
        let (node, shape) = try input(layer)
        guard shape.count == 3, shape[0] * shape[1] > 1, shape[2] > 1 else { return node }
        return try net.add(layer.name + "#chw", Permute([2, 0, 1]), inputs: [node])
    }

    mutating func convolution(_ layer: Caffe_LayerParameter) throws {
        let parameters = layer.convolutionParam, (node, shape) = try input(layer)
        let kernel = Self.pair(parameters.kernelSize, parameters.hasKernelH ? parameters.kernelH : nil, parameters.hasKernelW ? parameters.kernelW : nil, 0)
        let stride = Self.pair(parameters.stride, parameters.hasStrideH ? parameters.strideH : nil, parameters.hasStrideW ? parameters.strideW : nil, 1)
        let pad = Self.pair(parameters.pad, parameters.hasPadH ? parameters.padH : nil, parameters.hasPadW ? parameters.padW : nil, 0)
        let dilation = Self.pair(parameters.dilation, nil, nil, 1)
        let (outputs, groups, channels) = (Int(parameters.numOutput), Int(parameters.group), shape.count == 3 ? shape[2] : 0)
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, outputs > 0, groups > 0,
              channels % groups == 0, outputs % groups == 0, [kernel.0, kernel.1, pad.0, pad.1, outputs].allSatisfy({ $0 < 1 << 16 }) else {
            throw failure(layer, "has kernel \(kernel), stride \(stride), dilation \(dilation), \(outputs) outputs in \(groups) groups on \(shape)")
        }
        let perGroup = channels / groups
        // Caffe's [O, I/g, kh, kw] becomes the engine's HWIO; without weights, the convolution's own zeros.
        let count = try weightCount(layer, [outputs, perGroup, kernel.0, kernel.1])
        var weights: [Float]?
        if model.blobs != nil {
            let caffe = try blob(layer, 0, count: count)
            var hwio = [Float](repeating: 0, count: count)
            for o in 0..<outputs { for i in 0..<perGroup { for y in 0..<kernel.0 { for x in 0..<kernel.1 {
                hwio[((y * kernel.1 + x) * perGroup + i) * outputs + o] = caffe[((o * perGroup + i) * kernel.0 + y) * kernel.1 + x]
            } } } }
            weights = hwio
        }
        let bias = parameters.biasTerm ? try blob(layer, 1, count: outputs) : nil
        try emit(layer, Conv2D(inputChannels: channels, outputChannels: outputs, kernel: kernel, stride: stride, dilation: dilation, groups: groups,
                               padding: .symmetric(pad.0, pad.1), weights: weights, bias: bias), inputs: [node])
    }

    mutating func innerProduct(_ layer: Caffe_LayerParameter) throws {
        let parameters = layer.innerProductParam
        guard parameters.axis == 1 else { throw failure(layer, "multiplies from axis \(parameters.axis) (AudioNet: 1)") }
        let flat = try caffeOrder(layer), shape = net.shapes[flat]!
        let (inputs, outputs) = (shape.reduce(1, *), Int(parameters.numOutput))
        guard outputs > 0, outputs < 1 << 20 else { throw failure(layer, "has \(outputs) outputs") }
        let source = shape.count == 1 ? flat : try net.add(layer.name + "#flat", Flatten(), inputs: [flat])
        // Caffe's [out, in] (or [in, out] with `transpose`) becomes the engine's [in, out]; without weights, zeros.
        let count = try weightCount(layer, [inputs, outputs])
        var weights: [Float]?
        if model.blobs != nil {
            let caffe = try blob(layer, 0, count: count)
            weights = parameters.transpose ? caffe : caffe.indices.map { caffe[($0 % outputs) * inputs + $0 / outputs] }
        }
        let bias = parameters.biasTerm ? try blob(layer, 1, count: outputs) : nil
        try emit(layer, Dense(inputFeatures: inputs, outputFeatures: outputs, weights: weights, bias: bias), inputs: [source])
    }

    mutating func pooling(_ layer: Caffe_LayerParameter) throws {
        let parameters = layer.poolingParam, (node, shape) = try input(layer)
        guard shape.count == 3, parameters.pool != .stochastic else { throw failure(layer, "pools \(parameters.pool) over \(shape)") }
        let kind: Pool2D.Kind = parameters.pool == .max ? .max : .average
        if parameters.globalPooling {
            return try emit(layer, Pool2D(kind, kernel: (shape[0], shape[1])), inputs: [node])
        }
        let size = { (value: UInt32) in [value] }
        let kernel = Self.pair(parameters.hasKernelSize ? size(parameters.kernelSize) : [], parameters.hasKernelH ? parameters.kernelH : nil,
                               parameters.hasKernelW ? parameters.kernelW : nil, 0)
        let stride = Self.pair(parameters.hasStride ? size(parameters.stride) : [], parameters.hasStrideH ? parameters.strideH : nil,
                               parameters.hasStrideW ? parameters.strideW : nil, 1)
        let pad = Self.pair(parameters.hasPad ? size(parameters.pad) : [], parameters.hasPadH ? parameters.padH : nil, parameters.hasPadW ? parameters.padW : nil, 0)
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, pad.0 < kernel.0, pad.1 < kernel.1, kernel.0 < 1 << 16, kernel.1 < 1 << 16 else {
            throw failure(layer, "has kernel \(kernel), stride \(stride) and pad \(pad)")
        }
        // Caffe rounds the output size up (unless round_mode is FLOOR) and averages over the padded window.
        try emit(layer, Pool2D(kind, kernel: kernel, stride: stride, padding: .symmetric(pad.0, pad.1), countIncludesPadding: true,
                               ceilMode: parameters.roundMode == .ceil), inputs: [node])
    }
}
