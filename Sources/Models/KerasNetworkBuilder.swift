import Formats
import NetCore

/// Builds an NHWC network as a `keras.applications` function does, layer by layer, binding each layer with weights to
/// the layer of a Keras HDF5 weight file that Keras would bind it to. Without a file it builds the same graph with
/// placeholder weights (for layer tables).
///
/// Keras names a layer it is not given a name for after its class and how many of that class were made before it
/// (`conv2d`, `conv2d_1`, … in Keras 3; `conv2d_1`, `conv2d_2`, … in the Keras 2 that wrote the official weight
/// files), so the suffix is the layer's place in creation order, which is the order a builder function calls it in.
/// Nodes take Keras 3's names; explicitly named layers (`mixed0`, `predictions`) keep theirs. Binding is strict: a
/// missing layer or a wrong shape names the layer, and every layer of the file must find its place.
///
/// A chain of layers can instead bind in the file's order, Keras's own rule for the legacy layout, whatever the
/// file's names (OpenL3's files number their layers after the other subnetwork built in the same session).
struct KerasNetworkBuilder {
    var net: Network
    let file: KerasWeights?
    /// Whether the file numbers auto-named layers from 1 (Keras 2) rather than 0 (Keras 3).
    let numberedFromOne: Bool
    /// The file's layers with weights, in its order, when layers bind in that order; nil: by name.
    let fileOrder: [String]?
    /// How many layers of each class (by Keras's auto-name prefix) were made so far.
    var made: [String: Int] = [:]
    /// File layers bound so far.
    var bound = Set<String>()

    init(inputShape: [Int], file: KerasWeights?, inFileOrder: Bool = false) {
        net = Network(inputShape: inputShape, inputName: "input_layer")
        self.file = file
        numberedFromOne = file.map { !$0.layerNames.contains("conv2d") && $0.layerNames.contains("conv2d_1") } ?? false
        fileOrder = inFileOrder ? file.map { file in file.layerNames.filter { !(file.layers[$0] ?? []).isEmpty } } : nil
    }

    /// `explicit` when the function names the layer, else the next auto-name of `prefix`.
    mutating func name(_ explicit: String?, _ prefix: String) -> (node: String, file: String) {
        explicit.map { ($0, $0) } ?? autoName(prefix)
    }

    /// The next auto-name of `prefix` in Keras 3's numbering, and the name the file gives that layer.
    mutating func autoName(_ prefix: String) -> (node: String, file: String) {
        let count = made[prefix, default: 0]
        made[prefix] = count + 1
        func numbered(_ n: Int) -> String { n == 0 ? prefix : "\(prefix)_\(n)" }
        return (numbered(count), numberedFromOne ? "\(prefix)_\(count + 1)" : numbered(count))
    }

    /// The file's weights of `layer` (or of its next layer, binding in file order), each checked against its expected
    /// shape; nil without a file.
    mutating func weights(_ name: String, _ shapes: [(name: String, shape: [Int])]) throws -> [Tensor]? {
        guard let file else { return nil }
        var layer = name
        if let fileOrder {
            guard bound.count < fileOrder.count else { throw NetworkError.invalidWeights("the Keras weight file has no layer for '\(name)': it holds \(fileOrder.count)") }
            layer = fileOrder[bound.count]
        }
        guard let stored = file.layers[layer] else { throw NetworkError.invalidWeights("the Keras weight file has no layer '\(layer)'") }
        guard stored.map(\.name) == shapes.map(\.name) else {
            throw NetworkError.invalidWeights("Keras layer '\(layer)' holds \(stored.map(\.name)), where \(shapes.map(\.name)) are needed")
        }
        bound.insert(layer)
        return try zip(stored, shapes).map { stored, expected in
            guard stored.tensor.shape == expected.shape else {
                throw NetworkError.invalidWeights("Keras weight '\(layer)/\(stored.name)' has shape \(stored.tensor.shape), where \(expected.shape) is needed")
            }
            return stored.tensor
        }
    }

    /// The built network, once every layer of the file with weights has found its place.
    func finished() throws -> Network {
        if let file {
            let unbound = file.layerNames.filter { !(file.layers[$0] ?? []).isEmpty && !bound.contains($0) }
            guard unbound.isEmpty else { throw NetworkError.invalidWeights("the Keras weight file has layers no layer takes: \(unbound.prefix(5).joined(separator: ", "))") }
        }
        return net
    }

    /// `Conv2D(filters, (height, width), strides, padding, use_bias)`: Keras's HWIO kernel is the engine's. Its output
    /// times `scale` (InceptionResNetV2's residual scaling, folded into the kernel and bias).
    mutating func conv(_ input: String, _ filters: Int, _ kernel: (Int, Int), stride: Int = 1, same: Bool = true, bias: Bool = false,
                       scale: Float = 1, name explicit: String? = nil) throws -> String {
        let channels = net.shapes[input]!.last!
        let name = name(explicit, "conv2d")
        let values = try weights(name.file, [("kernel", [kernel.0, kernel.1, channels, filters])] + (bias ? [("bias", [filters])] : []))?
            .map { $0.scalars.map { $0 * scale } }
        return try net.add(name.node, Conv2D(inputChannels: channels, outputChannels: filters, kernel: kernel, stride: (stride, stride),
                                             padding: same ? .same : .valid, weights: values?[0],
                                             bias: bias ? values?[1] ?? [Float](repeating: 0, count: filters) : nil), inputs: [input])
    }

    /// `SeparableConv2D(filters, (size, size), strides, padding, use_bias=False)`: a depthwise convolution
    /// (`depthwise_kernel`, `[size, size, C, 1]`, which takes the stride) as `name/depthwise`, then a pointwise one
    /// (`pointwise_kernel`) as `name`.
    mutating func separableConv(_ input: String, _ filters: Int, size: Int = 3, stride: Int = 1, same: Bool = true,
                                name explicit: String) throws -> String {
        let channels = net.shapes[input]!.last!
        let values = try weights(explicit, [("depthwise_kernel", [size, size, channels, 1]), ("pointwise_kernel", [1, 1, channels, filters])])
        let depthwise = try net.add("\(explicit)/depthwise", DepthwiseConv2D(channels: channels, kernel: (size, size), stride: (stride, stride),
                                                                            padding: same ? .same : .valid, weights: values?[0].scalars, bias: nil),
                                    inputs: [input])
        return try net.add(explicit, Conv2D(inputChannels: channels, outputChannels: filters, kernel: (1, 1), weights: values?[1].scalars, bias: nil),
                           inputs: [depthwise])
    }

    /// `BatchNormalization(scale=…)`: γ (with scale), β, moving mean and variance; Keras's ε 1e-3.
    mutating func batchNorm(_ input: String, scale: Bool = false, name explicit: String? = nil) throws -> String {
        let channels = net.shapes[input]!.last!
        let name = name(explicit, "batch_normalization")
        let values = try weights(name.file, (scale ? [("gamma", [channels])] : []) + [("beta", [channels]), ("moving_mean", [channels]),
                                                                                    ("moving_variance", [channels])])?.map(\.scalars)
        let zeros = [Float](repeating: 0, count: channels), ones = [Float](repeating: 1, count: channels)
        let stored = values.map { scale ? $0 : [ones] + $0 } ?? [ones, zeros, zeros, ones]
        return try net.add(name.node, BatchNorm(gamma: scale ? stored[0] : nil, beta: stored[1], mean: stored[2], variance: stored[3], epsilon: 1e-3),
                           inputs: [input])
    }

    /// `Activation("relu")`, named `name` when the function names it.
    mutating func relu(_ input: String, name: String? = nil) throws -> String {
        let node = name ?? autoName("activation").node
        return try net.add(node, ActivationLayer(.relu), inputs: [input])
    }

    /// `MaxPooling2D` / `AveragePooling2D` (TensorFlow's SAME padding leaves the padding out of an average).
    mutating func pool(_ kind: Pool2D.Kind, _ input: String, size: Int, stride: Int, same: Bool = false, name explicit: String? = nil) throws -> String {
        let node = name(explicit, kind == .max ? "max_pooling2d" : "average_pooling2d").node
        return try net.add(node, Pool2D(kind, kernel: (size, size), stride: (stride, stride), padding: same ? .same : .valid), inputs: [input])
    }

    /// `add([x, y], name=name)`, or another class's auto-named sum (`custom_scale_layer`).
    mutating func add(_ inputs: [String], kind: String = "add", name: String? = nil) throws -> String {
        try net.add(name ?? autoName(kind).node, Add(), inputs: inputs)
    }

    /// `ZeroPadding2D(((top, bottom), (left, right)))`, or with negative sizes `Cropping2D` (`kind: "cropping2d"`).
    mutating func zeroPad(_ input: String, top: Int, bottom: Int, left: Int, right: Int, kind: String = "zero_padding2d",
                          name: String? = nil) throws -> String {
        try net.add(name ?? autoName(kind).node, ZeroPad2D(top: top, bottom: bottom, left: left, right: right), inputs: [input])
    }

    /// `Flatten()`.
    mutating func flatten(_ input: String) throws -> String {
        try net.add(autoName("flatten").node, Flatten(), inputs: [input])
    }

    /// `concatenate(..., axis=-1, name=name)`.
    mutating func concatenate(_ inputs: [String], name: String? = nil) throws -> String {
        try net.add(name ?? autoName("concatenate").node, Concat(), inputs: inputs)
    }

    /// `GlobalAveragePooling2D(name=name)`.
    mutating func globalAveragePool(_ input: String, name: String) throws -> String {
        try net.add(name, GlobalAveragePool(), inputs: [input])
    }

    /// `Dense(units, activation="softmax", name=name)`: the dense layer, then its softmax as `name/softmax`.
    mutating func softmaxClassifier(_ input: String, units: Int, name: String) throws -> String {
        let features = net.shapes[input]!.last!
        let values = try weights(name, [("kernel", [features, units]), ("bias", [units])])
        let logits = try net.add(name, Dense(inputFeatures: features, outputFeatures: units, weights: values?[0].scalars, bias: values?[1].scalars),
                                 inputs: [input])
        return try net.add("\(name)/softmax", Softmax(), inputs: [logits])
    }
}
