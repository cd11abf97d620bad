import Foundation
import NetCore
import Platform

/// A Darknet network: its definition (`.cfg`, sections of `key=value` options) and, when given, its trained weights
/// (`.weights`: a version header, then each convolution's biases — with batch normalisation its biases, scales, rolling
/// means and rolling variances — and its `[filters, channels, size, size]` kernel, all little-endian float32), read as
/// pjreddie/darknet's `parser.c` reads them.
public struct DarknetModel: Sendable {
    static let format = "Darknet"
    /// The section types ``network()`` reads (after the leading `[net]`).
    public static let layerTypes = ["convolutional", "maxpool", "avgpool", "shortcut", "softmax"]

    /// One `[type]` section and its options.
    public struct Section: Sendable {
        public let type: String
        public let options: [String: String]
        /// Line of the section header in the `.cfg`, for errors.
        let line: Int
    }

    /// The `[net]` section's options (input size), then the layers in order.
    public let net: Section
    public let layers: [Section]
    /// The `.weights` file's bytes; nil: no weights (placeholder zeros, for layer tables).
    let weights: [UInt8]?

    /// Reads a definition and, optionally, its weights.
    public init(cfg: String, weights: String?) throws {
        do {
            let text = String(decoding: try RegularFile.read(cfg, limit: 16 << 20), as: UTF8.self)
            try self.init(definition: text, weights: try weights.map { try RegularFile.read($0, limit: 1 << 34) })
        } catch let error as RegularFile.Failure {
            throw ModelFileError.malformed(format: Self.format, reason: error.description)
        }
    }

    /// Parses a definition and keeps the weights' bytes for ``network()``. As Darknet does, whitespace inside a line is
    /// ignored and lines starting with `#` or `;` are comments.
    public init(definition text: String, weights: [UInt8]?) throws {
        var sections: [Section] = [], type: String?, options: [String: String] = [:], header = 0
        func close() { if let type { sections.append(Section(type: type, options: options, line: header)) } }
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw.filter { !$0.isWhitespace })
            guard let first = line.first, first != "#", first != ";" else { continue }
            if first == "[" {
                guard line.last == "]", line.count > 2 else { throw Self.malformed("line \(number + 1) '\(line.prefix(40))' is not a [section]") }
                close()
                (type, options, header) = (String(line.dropFirst().dropLast()), [:], number + 1)
            } else {
                let pair = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard type != nil, pair.count == 2, !pair[0].isEmpty else {
                    throw Self.malformed("line \(number + 1) '\(line.prefix(40))' is not key=value inside a section")
                }
                options[String(pair[0])] = String(pair[1])
            }
        }
        close()
        guard let net = sections.first, net.type == "net" || net.type == "network" else {
            throw Self.malformed("the definition does not start with a [net] section")
        }
        self.net = net
        layers = Array(sections.dropFirst())
        self.weights = weights
    }

    static func malformed(_ reason: String) -> ModelFileError { .malformed(format: format, reason: reason) }

    /// The network on the engine, input `[height, width, channels]` as `[net]` gives it (Darknet feeds RGB in 0…1).
    /// The output of layer `i` (Darknet's numbering, which `from=-3` counts in) is the node `conv{i}` (or `leaky{i}`,
    /// the activation after it), `maxpool{i}`, `avgpool{i}`, `shortcut{i}` or `softmax{i}`; a batch-normalised
    /// convolution's normalisation is `bn{i}`.
    public func network() throws -> Network {
        var builder = try DarknetGraphBuilder(model: self)
        for (index, layer) in layers.enumerated() { try builder.add(layer, index: index) }
        try builder.weights?.finished()
        return builder.net
    }
}

/// The little-endian float32 stream after a `.weights` header, read in layer order.
struct DarknetWeightStream {
    let bytes: [UInt8]
    var offset: Int

    /// Skips the header: major, minor, revision (int32), then the count of images seen (int64 from version 0.2, else int32).
    init(bytes: [UInt8]) throws {
        self.bytes = bytes
        guard bytes.count >= 16 else { throw DarknetModel.malformed("the weights file holds \(bytes.count) bytes, less than its header") }
        let major = Self.int32(bytes, 0), minor = Self.int32(bytes, 4)
        offset = (major * 10 + minor >= 2 && major < 1000 && minor < 1000) ? 20 : 16
        guard major <= 1000, minor <= 1000 else {
            throw DarknetModel.malformed("version \(major).\(minor) of the weights file stores transposed connected layers (AudioNet reads other versions)")
        }
        guard bytes.count >= offset else { throw DarknetModel.malformed("the weights file ends inside its header") }
    }

    static func int32(_ bytes: [UInt8], _ at: Int) -> Int {
        Int(Int32(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24))
    }

    /// The next `count` floats, for `what`.
    mutating func take(_ count: Int, _ what: String) throws -> [Float] {
        guard count <= (bytes.count - offset) / 4 else {
            throw DarknetModel.malformed("the weights file ends inside \(what) (it holds fewer values than the definition needs)")
        }
        let values = bytes.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: UInt32.self))) }
        }
        offset += 4 * count
        return values
    }

    /// Every value was read: more would mean the weights belong to another definition.
    func finished() throws {
        guard offset == bytes.count else {
            throw DarknetModel.malformed("the weights file holds \(bytes.count - offset) bytes more than the definition reads")
        }
    }
}

/// Turns Darknet sections into engine layers, one Darknet layer at a time.
struct DarknetGraphBuilder {
    var net: Network
    var weights: DarknetWeightStream?
    /// The engine node holding each Darknet layer's output, by layer index.
    var outputs: [String] = []

    init(model: DarknetModel) throws {
        let options = model.net.options
        let (height, width, channels) = (Int(options["height"] ?? ""), Int(options["width"] ?? ""), Int(options["channels"] ?? ""))
        guard let height, let width, let channels, [height, width, channels].allSatisfy({ $0 > 0 && $0 < 1 << 14 }) else {
            throw DarknetModel.malformed("[net] gives height \(options["height"] ?? "–"), width \(options["width"] ?? "–"), channels \(options["channels"] ?? "–")")
        }
        net = Network(inputShape: [height, width, channels], inputName: "input")
        weights = try model.weights.map { try DarknetWeightStream(bytes: $0) }
    }

    func failure(_ layer: DarknetModel.Section, _ index: Int, _ why: String) -> ModelFileError {
        .unsupported(format: DarknetModel.format, reason: "[\(layer.type)] layer \(index) (line \(layer.line)) \(why)")
    }

    /// An integer option, its default when absent; a value that is not a small integer is an error naming it.
    func integer(_ layer: DarknetModel.Section, _ index: Int, _ key: String, _ fallback: Int) throws -> Int {
        guard let text = layer.options[key] else { return fallback }
        guard let value = Int(text), value >= -(1 << 16), value < 1 << 16 else { throw failure(layer, index, "has \(key)=\(text)") }
        return value
    }

    /// Placeholder values handed out so far (without weights).
    var placeholders = PlaceholderWeights()

    /// The values the weights hold next, or zeros without weights.
    mutating func values(_ count: Int, _ what: String) throws -> [Float] {
        guard weights == nil else { return try weights!.take(count, what) }
        try placeholders.add(count, format: DarknetModel.format, for: what)
        return [Float](repeating: 0, count: count)
    }

    /// The next kernel, Darknet's `[filters, channels / groups, size, size]` turned into the engine's HWIO; nil without
    /// weights (the convolution's own zeros: nothing to read or reorder).
    mutating func kernel(filters: Int, perGroup: Int, size: Int, index: Int) throws -> [Float]? {
        let count = filters * perGroup * size * size, what = "layer \(index)'s kernel"
        guard weights != nil else { try placeholders.add(count, format: DarknetModel.format, for: what); return nil }
        let darknet = try weights!.take(count, what)
        var kernel = [Float](repeating: 0, count: count)
        for o in 0..<filters { for i in 0..<perGroup { for y in 0..<size { for x in 0..<size {
            kernel[((y * size + x) * perGroup + i) * filters + o] = darknet[((o * perGroup + i) * size + y) * size + x]
        } } } }
        return kernel
    }

    mutating func add(_ layer: DarknetModel.Section, index: Int) throws {
        let previous = outputs.last ?? net.inputName, shape = net.shapes[previous]!
        let node: String
        switch layer.type {
        case "convolutional", "conv": node = try convolution(layer, index, input: previous, shape: shape)
        case "maxpool", "max":
            guard shape.count == 3 else { throw failure(layer, index, "follows a layer without a feature map") }
            let stride = try integer(layer, index, "stride", 1), size = try integer(layer, index, "size", stride)
            let padding = try integer(layer, index, "padding", size - 1)
            guard stride > 0, size > 0, padding >= 0, padding < 2 * size, shape[0] + padding >= size, shape[1] + padding >= size else {
                throw failure(layer, index, "has size \(size), stride \(stride), padding \(padding) on \(shape)")
            }
            // Darknet pads padding/2 before and the rest after; padded positions never win (−FLT_MAX).
            node = try net.add("maxpool\(index)", Pool2D(.max, kernel: (size, size), stride: (stride, stride),
                                                          padding: .explicit(top: padding / 2, bottom: padding - padding / 2,
                                                                             left: padding / 2, right: padding - padding / 2)),
                               inputs: [previous])
        case "avgpool", "avg":
            guard shape.count == 3 else { throw failure(layer, index, "follows a layer without a feature map") }
            // Darknet keeps a 1×1 map, which a following convolution reads (Darknet-53's classifier).
            node = try net.add("avgpool\(index)", Pool2D(.average, kernel: (shape[0], shape[1])), inputs: [previous])
        case "shortcut":
            guard let text = layer.options["from"], let from = Int(text),
                  case let source = from < 0 ? index + from : from, source >= 0, source < index else {
                throw failure(layer, index, "adds from=\(layer.options["from"] ?? "–"), which is not an earlier layer")
            }
            guard net.shapes[outputs[source]] == shape else {
                throw failure(layer, index, "adds layer \(source)'s \(net.shapes[outputs[source]]!) to \(shape) (AudioNet: equal shapes)")
            }
            guard (layer.options["alpha"].flatMap(Float.init) ?? 1) == 1, (layer.options["beta"].flatMap(Float.init) ?? 1) == 1 else {
                throw failure(layer, index, "weighs its inputs (alpha, beta) (AudioNet: plain sums)")
            }
            let sum = try net.add("shortcut\(index)", Add(), inputs: [previous, outputs[source]])
            node = try activation(layer, index, after: sum, default: "linear")
        case "softmax":
            guard try integer(layer, index, "groups", 1) == 1, (layer.options["temperature"].flatMap(Float.init) ?? 1) == 1 else {
                throw failure(layer, index, "has groups or a temperature (AudioNet: one softmax over the channels)")
            }
            node = try net.add("softmax\(index)", Softmax(), inputs: [previous])
        default:
            throw failure(layer, index, "is not supported (AudioNet reads \(DarknetModel.layerTypes.joined(separator: ", ")))")
        }
        outputs.append(node)
    }

    /// A convolution, its batch normalisation (Darknet's: (x − mean) / (√variance + 1e-6) · scale + bias) and activation.
    mutating func convolution(_ layer: DarknetModel.Section, _ index: Int, input: String, shape: [Int]) throws -> String {
        let filters = try integer(layer, index, "filters", 1), size = try integer(layer, index, "size", 1)
        let stride = try integer(layer, index, "stride", 1), groups = try integer(layer, index, "groups", 1)
        let padding = try integer(layer, index, "pad", 0) != 0 ? size / 2 : try integer(layer, index, "padding", 0)
        let normalized = try integer(layer, index, "batch_normalize", 0) != 0
        guard shape.count == 3, filters > 0, size > 0, stride > 0, padding >= 0, groups > 0, shape[2] % groups == 0, filters % groups == 0,
              shape[0] + 2 * padding >= size, shape[1] + 2 * padding >= size else {
            throw failure(layer, index, "has \(filters) filters of size \(size), stride \(stride), padding \(padding), \(groups) groups on \(shape)")
        }
        for flag in ["binary", "xnor", "flipped"] where try integer(layer, index, flag, 0) != 0 {
            throw failure(layer, index, "is \(flag) (AudioNet: float convolutions)")
        }
        let perGroup = shape[2] / groups
        guard let kernelCount = CheckedSize.elementCount([filters, perGroup, size, size]), kernelCount <= 1 << 28 else {
            throw failure(layer, index, "has \(filters)×\(perGroup)×\(size)×\(size) weights (AudioNet: at most 2^28 per layer)")
        }
        let biases = try values(filters, "layer \(index)'s biases")
        var normalization: BatchNorm?
        if normalized {
            let scales = try values(filters, "layer \(index)'s scales"), mean = try values(filters, "layer \(index)'s rolling means")
            let variance = try values(filters, "layer \(index)'s rolling variances")
            // Darknet adds its ε to the standard deviation, not the variance: (√v + 1e-6)² with ε 0 is the same division.
            normalization = BatchNorm(gamma: scales, beta: biases, mean: mean, variance: variance.map { (max($0, 0).squareRoot() + 1e-6) * (max($0, 0).squareRoot() + 1e-6) },
                                      epsilon: 0)
        }
        let kernel = try kernel(filters: filters, perGroup: perGroup, size: size, index: index)
        var node = try net.add("conv\(index)", Conv2D(inputChannels: shape[2], outputChannels: filters, kernel: (size, size), stride: (stride, stride),
                                                      groups: groups, padding: .symmetric(padding, padding), weights: kernel,
                                                      bias: normalized ? nil : biases), inputs: [input])
        if let normalization { node = try net.add("bn\(index)", normalization, inputs: [node]) }
        return try activation(layer, index, after: node, default: "logistic")
    }

    /// The layer's activation after `node` (none for `linear`).
    mutating func activation(_ layer: DarknetModel.Section, _ index: Int, after node: String, default fallback: String) throws -> String {
        let name = layer.options["activation"] ?? fallback
        let function: Activation
        switch name {
        case "linear": return node
        case "leaky": function = .leakyReLU(alpha: 0.1)
        case "relu": function = .relu
        case "logistic": function = .sigmoid
        case "tanh": function = .tanh
        default: throw failure(layer, index, "has activation '\(name)' (AudioNet reads linear, leaky, relu, logistic, tanh)")
        }
        return try net.add("\(name)\(index)", ActivationLayer(function), inputs: [node])
    }
}
