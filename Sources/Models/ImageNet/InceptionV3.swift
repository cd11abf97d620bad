import Formats
import NetCore

/// Inception-v3 (Szegedy et al. 2016) as `keras.applications.InceptionV3` defines it, MATLAB's `inceptionv3`: every
/// convolution is `conv2d_bn` (no bias, BatchNorm without scale, ReLU); 299×299 input scaled to −1…1; the blocks
/// `mixed0` … `mixed10` (35×35, 17×17 with factorized 7×7 convolutions, 8×8 with expanded filter banks); 23.9 M
/// parameters. Weights: Keras's official HDF5 file.
public enum InceptionV3 {
    public static let side = 299

    /// `conv2d_bn(x, filters, rows, columns, strides, padding)`.
    static func convBN(_ b: inout KerasNetworkBuilder, _ input: String, _ filters: Int, _ rows: Int, _ columns: Int,
                       stride: Int = 1, same: Bool = true) throws -> String {
        let conv = try b.conv(input, filters, (rows, columns), stride: stride, same: same)
        return try b.relu(try b.batchNorm(conv))
    }

    /// The 35×35 blocks mixed0 … mixed2: 1×1, 5×5, double 3×3 and pooled branches.
    static func block35(_ b: inout KerasNetworkBuilder, _ x: String, pool: Int, name: String) throws -> String {
        let branch1x1 = try convBN(&b, x, 64, 1, 1)
        let branch5x5 = try convBN(&b, try convBN(&b, x, 48, 1, 1), 64, 5, 5)
        let branch3x3dbl = try convBN(&b, try convBN(&b, try convBN(&b, x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        let branchPool = try convBN(&b, try b.pool(.average, x, size: 3, stride: 1, same: true), pool, 1, 1)
        return try b.concatenate([branch1x1, branch5x5, branch3x3dbl, branchPool], name: name)
    }

    /// The 17×17 blocks mixed4 … mixed7: 7×7 convolutions factorized into 1×7 and 7×1 with `width` channels.
    static func block17(_ b: inout KerasNetworkBuilder, _ x: String, width: Int, name: String) throws -> String {
        let branch1x1 = try convBN(&b, x, 192, 1, 1)
        var branch7x7 = try convBN(&b, x, width, 1, 1)
        branch7x7 = try convBN(&b, try convBN(&b, branch7x7, width, 1, 7), 192, 7, 1)
        var branch7x7dbl = try convBN(&b, x, width, 1, 1)
        branch7x7dbl = try convBN(&b, try convBN(&b, branch7x7dbl, width, 7, 1), width, 1, 7)
        branch7x7dbl = try convBN(&b, try convBN(&b, branch7x7dbl, width, 7, 1), 192, 1, 7)
        let branchPool = try convBN(&b, try b.pool(.average, x, size: 3, stride: 1, same: true), 192, 1, 1)
        return try b.concatenate([branch1x1, branch7x7, branch7x7dbl, branchPool], name: name)
    }

    /// The 8×8 blocks mixed9 and mixed10: 1×3 and 3×1 banks side by side.
    static func block8(_ b: inout KerasNetworkBuilder, _ x: String, index: Int) throws -> String {
        let branch1x1 = try convBN(&b, x, 320, 1, 1)
        let branch3x3 = try convBN(&b, x, 384, 1, 1)
        let wide = try b.concatenate([try convBN(&b, branch3x3, 384, 1, 3), try convBN(&b, branch3x3, 384, 3, 1)], name: "mixed9_\(index)")
        let branch3x3dbl = try convBN(&b, try convBN(&b, x, 448, 1, 1), 384, 3, 3)
        let dbl = try b.concatenate([try convBN(&b, branch3x3dbl, 384, 1, 3), try convBN(&b, branch3x3dbl, 384, 3, 1)])
        let branchPool = try convBN(&b, try b.pool(.average, x, size: 3, stride: 1, same: true), 192, 1, 1)
        return try b.concatenate([branch1x1, wide, dbl, branchPool], name: "mixed\(9 + index)")
    }

    public static func network(weights: KerasWeights?) throws -> Network {
        var b = KerasNetworkBuilder(inputShape: [side, side, 3], file: weights)
        var x = try convBN(&b, b.net.inputName, 32, 3, 3, stride: 2, same: false)
        x = try convBN(&b, x, 32, 3, 3, same: false)
        x = try convBN(&b, x, 64, 3, 3)
        x = try b.pool(.max, x, size: 3, stride: 2)
        x = try convBN(&b, x, 80, 1, 1, same: false)
        x = try convBN(&b, x, 192, 3, 3, same: false)
        x = try b.pool(.max, x, size: 3, stride: 2)
        x = try block35(&b, x, pool: 32, name: "mixed0")
        x = try block35(&b, x, pool: 64, name: "mixed1")
        x = try block35(&b, x, pool: 64, name: "mixed2")
        // mixed3: to 17×17.
        let branch3x3 = try convBN(&b, x, 384, 3, 3, stride: 2, same: false)
        var branch3x3dbl = try convBN(&b, try convBN(&b, x, 64, 1, 1), 96, 3, 3)
        branch3x3dbl = try convBN(&b, branch3x3dbl, 96, 3, 3, stride: 2, same: false)
        x = try b.concatenate([branch3x3, branch3x3dbl, try b.pool(.max, x, size: 3, stride: 2)], name: "mixed3")
        for (index, width) in [128, 160, 160, 192].enumerated() { x = try block17(&b, x, width: width, name: "mixed\(4 + index)") }
        // mixed8: to 8×8.
        let branch3x3b = try convBN(&b, try convBN(&b, x, 192, 1, 1), 320, 3, 3, stride: 2, same: false)
        var branch7x7x3 = try convBN(&b, try convBN(&b, x, 192, 1, 1), 192, 1, 7)
        branch7x7x3 = try convBN(&b, try convBN(&b, branch7x7x3, 192, 7, 1), 192, 3, 3, stride: 2, same: false)
        x = try b.concatenate([branch3x3b, branch7x7x3, try b.pool(.max, x, size: 3, stride: 2)], name: "mixed8")
        x = try block8(&b, x, index: 0)
        x = try block8(&b, x, index: 1)
        x = try b.globalAveragePool(x, name: "avg_pool")
        _ = try b.softmaxClassifier(x, units: 1000, name: "predictions")
        return try b.finished()
    }

    /// Keras's official weights (its documentation gives their license).
    public static let descriptor = NetworkDescriptor.kerasApplication(
        "inceptionv3", depth: 48, sizeMB: 89, parametersMillions: 23.9, side: side,
        folder: "inception_v3", file: "inception_v3_weights_tf_dim_ordering_tf_kernels.h5", license: "Apache-2.0") { try network(weights: $0) }
        .citing(top1: 77.9, "the Keras Applications table (keras.io/api/applications)")
}
