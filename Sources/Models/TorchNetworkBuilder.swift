import NetCore

/// Builds an NHWC network from a PyTorch (torchvision) state_dict: module names become node names, OIHW
/// kernels become HWIO, `[out, in]` linear weights become `[in, out]`, and every tensor's shape is checked.
/// Without a state_dict it builds the same graph with placeholder weights (for layer tables).
///
/// Binding goes through a ``WeightBinder``: strict, as `load_state_dict` is by default, apart from BatchNorm's
/// `num_batches_tracked` counters and the prefixes a network declares it does not use.
struct TorchNetworkBuilder {
    var net: Network
    let binder: WeightBinder?

    init(inputShape: [Int], weights: [String: Tensor]?, unused prefixes: [String] = []) {
        net = Network(inputShape: inputShape)
        binder = weights.map { WeightBinder(Self.sanitize($0), unused: prefixes) }
    }

    /// BatchNorm's `num_batches_tracked` counters are training state, not weights.
    static func sanitize(_ stateDict: [String: Tensor]) -> [String: Tensor] {
        stateDict.filter { !$0.key.hasSuffix("num_batches_tracked") }
    }

    func tensor(_ name: String, _ shape: [Int]) throws -> Tensor? {
        try binder?.take(name, shape)
    }

    /// The built network, once every key of the state_dict has found its layer.
    func finished() throws -> Network {
        try binder?.finished()
        return net
    }

    /// The last node added.
    var last: String { net.outputName }

    /// `nn.Conv2d` (`name.weight`, optional `name.bias`), square kernel; padding symmetric (`padding`, default
    /// `(kernel − 1) / 2`) or, with `tensorflowSame`, TensorFlow's SAME (ports of TensorFlow models).
    @discardableResult
    mutating func conv(_ name: String, _ input: Int, _ output: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
                       tensorflowSame: Bool = false, groups: Int = 1, bias: Bool = true, from source: String? = nil) throws -> String {
        let pad = padding ?? (kernel - 1) / 2
        let spatialPadding: Padding = tensorflowSame ? .same : .symmetric(pad, pad)
        let weight = try tensor("\(name).weight", [output, input / groups, kernel, kernel])?.permuted([2, 3, 1, 0])
        // Placeholder mode keeps a zero bias so the layer table still counts it.
        let biasValues = bias ? (try tensor("\(name).bias", [output])?.scalars ?? [Float](repeating: 0, count: output)) : nil
        let layer: any Layer
        if groups == input && groups == output && groups > 1 {
            layer = DepthwiseConv2D(channels: input, kernel: (kernel, kernel), stride: (stride, stride), padding: spatialPadding,
                                    weights: weight?.scalars, bias: biasValues)
        } else {
            layer = Conv2D(inputChannels: input, outputChannels: output, kernel: (kernel, kernel), stride: (stride, stride),
                           groups: groups, padding: spatialPadding, weights: weight?.scalars, bias: biasValues)
        }
        return try net.add(name, layer, inputs: source.map { [$0] })
    }

    /// `nn.BatchNorm2d` with its running statistics.
    @discardableResult
    mutating func batchNorm(_ name: String, _ channels: Int, epsilon: Float = 1e-5, from source: String? = nil) throws -> String {
        let ones = [Float](repeating: 1, count: channels), zeros = [Float](repeating: 0, count: channels)
        return try net.add(name, BatchNorm(gamma: try tensor("\(name).weight", [channels])?.scalars ?? ones,
                                           beta: try tensor("\(name).bias", [channels])?.scalars ?? zeros,
                                           mean: try tensor("\(name).running_mean", [channels])?.scalars ?? zeros,
                                           variance: try tensor("\(name).running_var", [channels])?.scalars ?? ones,
                                           epsilon: epsilon), inputs: source.map { [$0] })
    }

    /// `nn.Linear`; `flattenedFrom` gives the `[C, H, W]` a preceding `torch.flatten` read in NCHW order, so the
    /// weight's columns are reordered to the engine's NHWC flatten.
    @discardableResult
    mutating func linear(_ name: String, _ input: Int, _ output: Int, flattenedFrom chw: [Int]? = nil,
                         from source: String? = nil) throws -> String {
        var weight = try tensor("\(name).weight", [output, input])
        if let chw, let value = weight {
            weight = value.reshaped([output] + chw).permuted([0, 2, 3, 1]).reshaped([output, input])
        }
        return try net.add(name, Dense(inputFeatures: input, outputFeatures: output, weights: weight?.permuted([1, 0]).scalars,
                                       bias: try tensor("\(name).bias", [output])?.scalars), inputs: source.map { [$0] })
    }

    @discardableResult
    mutating func add(_ name: String, _ layer: any Layer, from sources: [String]? = nil) throws -> String {
        try net.add(name, layer, inputs: sources)
    }

    @discardableResult
    mutating func relu(_ name: String, from source: String? = nil) throws -> String {
        try net.add(name, ActivationLayer(.relu), inputs: source.map { [$0] })
    }
}
