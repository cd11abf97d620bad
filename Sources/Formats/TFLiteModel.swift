import Foundation
import NetCore
import Platform

/// A TensorFlow Lite model read from its FlatBuffer (schema.fbs), without an external FlatBuffers library:
/// tensors with their quantization, buffers, and operators with the options AudioNet uses.
public struct TFLiteModel: Sendable {
    /// Element types (TensorType in schema.fbs).
    public enum ElementType: Int, Sendable {
        case float32 = 0, float16 = 1, int32 = 2, uint8 = 3, int64 = 4, string = 5, bool = 6, int16 = 7, complex64 = 8
        case int8 = 9, float64 = 10

        var size: Int {
            switch self {
            case .float32, .int32: return 4
            case .float16, .int16: return 2
            case .uint8, .int8, .bool: return 1
            case .int64, .float64, .complex64: return 8
            case .string: return 1
            }
        }
    }

    /// Affine quantization: `real = scale · (q − zeroPoint)`, per tensor or per channel along `dimension`.
    public struct Quantization: Sendable, Equatable {
        public let scales: [Float]
        public let zeroPoints: [Int64]
        public let dimension: Int
    }

    public struct TensorInfo: Sendable {
        public let name: String
        public let shape: [Int]
        public let type: ElementType
        /// Byte range of the tensor's constant data in the file; nil for activations.
        public let data: Range<Int>?
        public let quantization: Quantization?
    }

    /// Builtin operator codes (BuiltinOperator in schema.fbs) that AudioNet's importers read.
    public enum OperatorCode: Int, Sendable {
        case add = 0, averagePool2D = 1, concatenation = 2, conv2D = 3, depthwiseConv2D = 4, dequantize = 6
        case fullyConnected = 9, logistic = 14, maxPool2D = 17, mul = 18, relu = 19, relu6 = 21, reshape = 22
        case softmax = 25, pad = 34, gather = 36, mean = 40, squeeze = 43, stridedSlice = 45, slice = 65, log = 73, sqrt = 75
        case quantize = 114
    }

    /// Options of convolution-like operators (Conv2DOptions, DepthwiseConv2DOptions, FullyConnectedOptions, pools).
    public struct Options: Sendable, Equatable {
        public var samePadding = false
        public var stride = (h: 1, w: 1)
        public var dilation = (h: 1, w: 1)
        public var depthMultiplier = 1
        public var filter = (h: 1, w: 1)
        public var activation: Activation = .identity
        /// CONCATENATION's axis.
        public var axis = 0
        /// MEAN's keep_dims.
        public var keepDimensions = false

        public static func == (a: Options, b: Options) -> Bool {
            a.samePadding == b.samePadding && a.stride == b.stride && a.dilation == b.dilation
                && a.depthMultiplier == b.depthMultiplier && a.filter == b.filter && a.activation == b.activation
                && a.axis == b.axis && a.keepDimensions == b.keepDimensions
        }
    }

    public struct Operator: Sendable {
        /// Builtin code; nil for codes AudioNet does not name (their raw value is in `rawCode`).
        public let code: OperatorCode?
        public let rawCode: Int
        public let inputs: [Int]
        public let outputs: [Int]
        public let options: Options
    }

    public let tensors: [TensorInfo]
    public let operators: [Operator]
    public let inputs: [Int]
    public let outputs: [Int]
    private let bytes: [UInt8]

    static let format = "TFLite"

    /// Reads a `.tflite` file.
    public init(path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: error.description)
        }
        try self.init(bytes: bytes)
    }

    /// Parses `.tflite` bytes, checking every offset.
    public init(bytes: [UInt8]) throws {
        let buffer = FlatBuffer(bytes: bytes, format: Self.format)
        guard bytes.count >= 8, Array(bytes[4..<8]) == Array("TFL3".utf8) else {
            throw ModelFileError.malformed(format: Self.format, reason: "missing the TFL3 identifier")
        }
        let model = try buffer.root()
        let codes = try model.tables(1).map { code -> Int in
            // builtin_code (field 3) supersedes deprecated_builtin_code (field 0) above 127.
            max(Int(try code.uint8(0)), try code.int(3))
        }
        let buffers = try model.tables(4).map { entry -> Range<Int>? in
            if let range = try entry.byteRange(0), !range.isEmpty { return range }
            let offset = try entry.uint64(1), size = try entry.uint64(2)
            guard offset > 1 else { return nil }
            guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
                throw buffer.fail("buffer at \(offset) of \(size) bytes is outside the file")
            }
            return Int(offset)..<Int(offset + size)
        }
        let subgraphs = try model.tables(2)
        guard let graph = subgraphs.first else { throw buffer.fail("no subgraph") }
        tensors = try graph.tables(0).map { tensor in
            let shape = try tensor.ints(0)
            guard shape.allSatisfy({ $0 >= -1 }) else { throw buffer.fail("negative tensor dimension") }
            guard let type = ElementType(rawValue: Int(try tensor.uint8(1))) else {
                throw ModelFileError.unsupported(format: Self.format, reason: "tensor type \(try tensor.uint8(1))")
            }
            let bufferIndex = Int(try tensor.uint32(2))
            guard bufferIndex < buffers.count else { throw buffer.fail("tensor buffer index \(bufferIndex) out of range") }
            var quantization: Quantization?
            if let q = try tensor.table(4) {
                let scales = try q.floats(2)
                if !scales.isEmpty {
                    quantization = Quantization(scales: scales, zeroPoints: try q.int64s(3), dimension: try q.int(6))
                }
            }
            return TensorInfo(name: try tensor.string(3), shape: shape, type: type, data: buffers[bufferIndex],
                              quantization: quantization)
        }
        let tensorCount = tensors.count
        func checked(_ indices: [Int]) throws -> [Int] {
            guard indices.allSatisfy({ $0 >= -1 && $0 < tensorCount }) else { throw buffer.fail("tensor index out of range") }
            return indices
        }
        operators = try graph.tables(3).map { op in
            let index = Int(try op.uint32(0))
            guard index < codes.count else { throw buffer.fail("operator code index \(index) out of range") }
            let code = OperatorCode(rawValue: codes[index])
            return Operator(code: code, rawCode: codes[index], inputs: try checked(try op.ints(1)),
                            outputs: try checked(try op.ints(2)), options: try Self.options(code, try op.table(4)))
        }
        inputs = try checked(try graph.ints(1))
        outputs = try checked(try graph.ints(2))
        self.bytes = bytes
    }

    static func activation(_ code: UInt8) throws -> Activation {
        switch code {
        case 0: return .identity
        case 1: return .relu
        case 3: return .relu6
        case 4: return .tanh
        default: throw ModelFileError.unsupported(format: format, reason: "fused activation \(code)")
        }
    }

    static func options(_ code: OperatorCode?, _ table: FlatBuffer.Table?) throws -> Options {
        var options = Options()
        guard let table, let code else { return options }
        switch code {
        case .conv2D:
            options.samePadding = try table.uint8(0) == 0
            options.stride = (try table.int(2, default: 1), try table.int(1, default: 1))
            options.activation = try activation(try table.uint8(3))
            options.dilation = (try table.int(5, default: 1), try table.int(4, default: 1))
        case .depthwiseConv2D:
            options.samePadding = try table.uint8(0) == 0
            options.stride = (try table.int(2, default: 1), try table.int(1, default: 1))
            options.depthMultiplier = try table.int(3, default: 1)
            options.activation = try activation(try table.uint8(4))
            options.dilation = (try table.int(6, default: 1), try table.int(5, default: 1))
        case .averagePool2D, .maxPool2D:
            options.samePadding = try table.uint8(0) == 0
            options.stride = (try table.int(2, default: 1), try table.int(1, default: 1))
            options.filter = (try table.int(4, default: 1), try table.int(3, default: 1))
            options.activation = try activation(try table.uint8(5))
        case .fullyConnected, .add, .mul:
            options.activation = try activation(try table.uint8(0))
        case .concatenation:
            options.axis = try table.int(0)
            options.activation = try activation(try table.uint8(1))
        case .mean:
            options.keepDimensions = try table.uint8(0) != 0
        default:
            break
        }
        return options
    }

    /// Index of the first tensor called `name`.
    public func tensorIndex(named name: String) -> Int? { tensors.firstIndex { $0.name == name } }

    /// The operator that writes tensor `index`, if any.
    public func producer(of index: Int) -> Operator? { operators.first { $0.outputs.contains(index) } }

    /// A constant tensor's values as Float32: int8/uint8/int16/int32 dequantized with their (per-channel)
    /// scales and zero points, float16 widened. A tensor written by a DEQUANTIZE operator is read from
    /// that operator's constant input.
    public func floats(_ index: Int) throws -> Tensor {
        guard index >= 0 && index < tensors.count else {
            throw ModelFileError.malformed(format: Self.format, reason: "tensor index \(index) out of range")
        }
        let info = tensors[index]
        guard let range = info.data else {
            // One step back to the DEQUANTIZE operator's constant input: a chain or a cycle of them (a crafted file
            // whose DEQUANTIZE reads its own output recursed until the stack overflowed) is not a constant.
            if let op = producer(of: index), op.code == .dequantize, let source = op.inputs.first, source >= 0, source < tensors.count,
               tensors[source].data != nil {
                return try floats(source)
            }
            throw ModelFileError.malformed(format: Self.format, reason: "tensor '\(info.name)' has no constant data")
        }
        guard let count = CheckedSize.elementCount(info.shape), CheckedSize.multiplyAdd(count, info.type.size) == range.count else {
            throw ModelFileError.malformed(format: Self.format,
                                           reason: "tensor '\(info.name)' holds \(range.count) bytes for shape \(info.shape)")
        }
        let raw = bytes[range]
        let base = range.lowerBound
        func word(_ i: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[base + i * size + $1]) << (8 * $1) }
        }
        var values: [Float]
        switch info.type {
        case .float32: values = (0..<count).map { Float(bitPattern: UInt32(word($0, 4))) }
        case .float16: values = (0..<count).map { Float(Float16(bitPattern: UInt16(word($0, 2)))) }
        case .int8: values = raw.map { Float(Int8(bitPattern: $0)) }
        case .uint8: values = raw.map { Float($0) }
        case .int16: values = (0..<count).map { Float(Int16(bitPattern: UInt16(word($0, 2)))) }
        case .int32: values = (0..<count).map { Float(Int32(bitPattern: UInt32(word($0, 4)))) }
        default:
            throw ModelFileError.unsupported(format: Self.format, reason: "tensor '\(info.name)' of type \(info.type)")
        }
        if let q = info.quantization, info.type != .float32, info.type != .float16 {
            try dequantize(&values, shape: info.shape, quantization: q, name: info.name)
        }
        return Tensor(shape: info.shape, scalars: values)
    }

    private func dequantize(_ values: inout [Float], shape: [Int], quantization q: Quantization, name: String) throws {
        let channels = q.scales.count
        guard channels == 1 || (q.dimension >= 0 && q.dimension < shape.count && shape[q.dimension] == channels),
              q.zeroPoints.count <= 1 || q.zeroPoints.count == channels else {
            throw ModelFileError.malformed(format: Self.format, reason: "quantization of '\(name)' does not match its shape")
        }
        let inner = channels == 1 ? values.count : shape[(q.dimension + 1)...].reduce(1, *)
        for i in values.indices {
            let channel = channels == 1 ? 0 : (i / inner) % channels
            let zero = q.zeroPoints.isEmpty ? 0 : Float(q.zeroPoints[q.zeroPoints.count == 1 ? 0 : channel])
            values[i] = q.scales[channel] * (values[i] - zero)
        }
    }
}
