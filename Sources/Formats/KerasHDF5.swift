import CHDF5
import Foundation
import NetCore
import Platform

/// Weights saved by Keras (`model.save_weights` / `model.save` HDF5): a group per layer, listed in the root
/// attribute `layer_names`, each with a `weight_names` attribute naming its datasets (`conv1_3/kernel:0`…).
/// Read through libhdf5; shapes are kept as Keras stores them.
public struct KerasWeights: Sendable {
    static let format = "Keras HDF5"
    /// Layer names in model order.
    public let layerNames: [String]
    /// Each layer's weights in `weight_names` order: short name (`kernel`, `bias`, `gamma`, `moving_mean`…) and tensor.
    public let layers: [String: [(name: String, tensor: Tensor)]]

    /// Reads every layer's weights from `path`.
    public init(path: String) throws {
        do {
            try RegularFile.check(path)
        } catch {
            throw ModelFileError.malformed(format: Self.format, reason: error.description)
        }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        audionet_h5_silence_errors()
        guard H5Fis_hdf5(path) > 0 else {
            throw ModelFileError.malformed(format: Self.format, reason: "'\(path)' is not an HDF5 file")
        }
        let file = H5Fopen(path, audionet_h5f_acc_rdonly(), audionet_h5p_default())
        guard file >= 0 else { throw ModelFileError.malformed(format: Self.format, reason: "libhdf5 cannot open '\(path)'") }
        defer { H5Fclose(file) }
        // Whole-model files keep the weights under model_weights/.
        let root = H5Lexists(file, "model_weights", audionet_h5p_default()) > 0 ? "model_weights" : "/"
        let rootGroup = H5Oopen(file, root, audionet_h5p_default())
        guard rootGroup >= 0 else { throw ModelFileError.malformed(format: Self.format, reason: "no root group") }
        defer { H5Oclose(rootGroup) }
        // An attribute's strings are stored in the file. Compressed datasets may hold more than the file's bytes: all of
        // them together are allowed 16 times the file (at least 16 MB), so that a file naming one dataset many times
        // cannot make the reader hold gigabytes (fuzzing: 2.4 GB from an 8.7 KB file).
        let attributeBytes = max(fileSize, 1 << 16)
        var datasetBytes = max(fileSize, 1 << 20) * 16
        let names = try Self.stringAttribute(rootGroup, "layer_names", limit: attributeBytes)
        var layers: [String: [(String, Tensor)]] = [:]
        for layer in names {
            let group = H5Oopen(rootGroup, layer, audionet_h5p_default())
            guard group >= 0 else { throw ModelFileError.malformed(format: Self.format, reason: "layer group '\(layer)' is missing") }
            defer { H5Oclose(group) }
            layers[layer] = try Self.stringAttribute(group, "weight_names", limit: attributeBytes).map { weight in
                let short = String(weight.split(separator: "/").last ?? Substring(weight)).replacingOccurrences(of: ":0", with: "")
                let tensor = try Self.readDataset(group, weight, limit: datasetBytes, name: "\(layer)/\(weight)")
                datasetBytes -= 4 * tensor.scalars.count
                return (short, tensor)
            }
        }
        layerNames = names
        self.layers = layers
    }

    /// Every weight keyed `layer/name` (`conv1/kernel`, `conv1-BN/moving_mean`, `layer1/conv/bn/beta`), as Keras names
    /// its variables.
    public var stateDict: [String: Tensor] {
        layerNames.reduce(into: [:]) { state, layer in
            for (name, tensor) in layers[layer] ?? [] { state["\(layer)/\(name)"] = tensor }
        }
    }

    /// The weight `name` (`kernel`, `bias`…) of `layer`, checked to have `shape` when given.
    public func tensor(_ layer: String, _ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let weights = layers[layer] else {
            throw ModelFileError.malformed(format: Self.format, reason: "no layer '\(layer)' (layers: \(layerNames.joined(separator: ", ")))")
        }
        guard let tensor = weights.first(where: { $0.name == name })?.tensor else {
            throw ModelFileError.malformed(format: Self.format, reason: "layer '\(layer)' has no '\(name)' weight")
        }
        if let shape, tensor.shape != shape {
            throw ModelFileError.malformed(format: Self.format, reason: "'\(layer)/\(name)' has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    /// A fixed-length string array attribute of at most `limit` bytes (variable-length strings are refused).
    static func stringAttribute(_ object: hid_t, _ name: String, limit: Int) throws -> [String] {
        guard H5Aexists(object, name) > 0 else { throw ModelFileError.malformed(format: format, reason: "attribute '\(name)' is missing") }
        let attribute = H5Aopen(object, name, audionet_h5p_default())
        guard attribute >= 0 else { throw ModelFileError.malformed(format: format, reason: "cannot open attribute '\(name)'") }
        defer { H5Aclose(attribute) }
        let type = H5Aget_type(attribute), space = H5Aget_space(attribute)
        defer { H5Tclose(type); H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        guard count >= 0, count < 1_000_000 else { throw ModelFileError.malformed(format: format, reason: "attribute '\(name)' size") }
        if count == 0 || H5Tget_class(type) != H5T_STRING { return [] }  // Keras writes an empty float array for no weights
        // Keras writes these names as fixed-length strings. Variable-length ones live in HDF5's global heap, whose
        // reader in libhdf5 1.10 crashes on crafted files (found by fuzzing): they are refused, not read.
        guard H5Tis_variable_str(type) <= 0 else {
            throw ModelFileError.unsupported(format: format, reason: "attribute '\(name)' holds variable-length strings; Keras weight files use fixed-length ones")
        }
        let width = H5Tget_size(type)
        guard width > 0, width < 65_536, count * width <= limit else {
            throw ModelFileError.malformed(format: format, reason: "attribute '\(name)' claims \(count) strings of \(width) bytes, more than the file holds")
        }
        var bytes = [UInt8](repeating: 0, count: count * width)
        guard H5Aread(attribute, type, &bytes) >= 0 else { throw ModelFileError.malformed(format: format, reason: "cannot read '\(name)'") }
        return (0..<count).map { index in
            let slice = bytes[index * width..<(index + 1) * width]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// A floating-point dataset as Float32, its element count checked against `limit` bytes (what is left of the file's
    /// allowance).
    static func readDataset(_ group: hid_t, _ path: String, limit: Int, name: String) throws -> Tensor {
        let dataset = H5Dopen2(group, path, audionet_h5p_default())
        guard dataset >= 0 else { throw ModelFileError.malformed(format: format, reason: "dataset '\(name)' is missing") }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset), space = H5Dget_space(dataset)
        defer { H5Tclose(type); H5Sclose(space) }
        guard H5Tget_class(type) == H5T_FLOAT else { throw ModelFileError.unsupported(format: format, reason: "dataset '\(name)' is not floating point") }
        // Keras writes float16, float32 or float64; libhdf5 1.10 converts a crafted float of gigabytes through buffers
        // of that size (fuzzing: 4.3 GB held for an 8.7 KB file).
        let elementSize = H5Tget_size(type)
        guard [2, 4, 8].contains(elementSize) else {
            throw ModelFileError.unsupported(format: format, reason: "dataset '\(name)' holds \(elementSize)-byte floats; Keras writes 2-, 4- or 8-byte ones")
        }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0, rank <= 8 else { throw ModelFileError.malformed(format: format, reason: "dataset '\(name)' has rank \(rank)") }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        let shape = dims.map { Int(clamping: $0) }
        guard let count = CheckedSize.elementCount(shape), count <= limit / 4 else {
            throw ModelFileError.malformed(format: format, reason: "dataset '\(name)' claims shape \(shape), larger than the file allows")
        }
        var values = [Float](repeating: 0, count: count)
        if count > 0 {
            guard H5Dread(dataset, audionet_h5t_native_float(), audionet_h5s_all(), audionet_h5s_all(), audionet_h5p_default(), &values) >= 0 else {
                throw ModelFileError.malformed(format: format, reason: "cannot read dataset '\(name)' (truncated or corrupt file)")
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}
