import Formats
import NetCore

/// Xception (Chollet 2017) as `keras.applications.Xception` defines it, MATLAB's `xception`: depthwise-separable
/// convolutions (each followed by BatchNorm) in an entry flow of three strided residual blocks, a middle flow of eight
/// 728-channel blocks and an exit flow; 299×299 input scaled to −1…1; 22.9 M parameters. Weights: Keras's official
/// HDF5 file.
public enum Xception {
    public static let side = 299

    /// A named separable convolution and its BatchNorm (`NAME_bn`), after a ReLU (`NAME_act`) when `activateFirst`.
    static func separable(_ b: inout KerasNetworkBuilder, _ input: String, _ filters: Int, name: String, activateFirst: Bool) throws -> String {
        let x = activateFirst ? try b.relu(input, name: "\(name)_act") : input
        return try b.batchNorm(try b.separableConv(x, filters, name: name), scale: true, name: "\(name)_bn")
    }

    /// An entry- or exit-flow block: two separable convolutions, a strided max pool, and a strided 1×1 projection of
    /// the block's input added to it.
    static func strided(_ b: inout KerasNetworkBuilder, _ x: String, _ filters: (Int, Int), block: Int, activateFirst: Bool) throws -> String {
        let residual = try b.batchNorm(try b.conv(x, filters.1, (1, 1), stride: 2, same: true), scale: true)
        // Keras names the second ReLU after the second convolution: block2_sepconv2_act.
        var y = try separable(&b, x, filters.0, name: "block\(block)_sepconv1", activateFirst: activateFirst)
        y = try separable(&b, y, filters.1, name: "block\(block)_sepconv2", activateFirst: true)
        y = try b.pool(.max, y, size: 3, stride: 2, same: true, name: "block\(block)_pool")
        return try b.add([y, residual])
    }

    public static func network(weights: KerasWeights?) throws -> Network {
        var b = KerasNetworkBuilder(inputShape: [side, side, 3], file: weights)
        var x = try b.conv(b.net.inputName, 32, (3, 3), stride: 2, same: false, name: "block1_conv1")
        x = try b.relu(try b.batchNorm(x, scale: true, name: "block1_conv1_bn"), name: "block1_conv1_act")
        x = try b.conv(x, 64, (3, 3), same: false, name: "block1_conv2")
        x = try b.relu(try b.batchNorm(x, scale: true, name: "block1_conv2_bn"), name: "block1_conv2_act")
        for (block, filters) in [(2, 128), (3, 256), (4, 728)] {
            x = try strided(&b, x, (filters, filters), block: block, activateFirst: block > 2)
        }
        for block in 5...12 {
            var y = x
            for index in 1...3 { y = try separable(&b, y, 728, name: "block\(block)_sepconv\(index)", activateFirst: true) }
            x = try b.add([y, x])
        }
        x = try strided(&b, x, (728, 1024), block: 13, activateFirst: true)
        x = try b.relu(try separable(&b, x, 1536, name: "block14_sepconv1", activateFirst: false), name: "block14_sepconv1_act")
        x = try b.relu(try separable(&b, x, 2048, name: "block14_sepconv2", activateFirst: false), name: "block14_sepconv2_act")
        x = try b.globalAveragePool(x, name: "avg_pool")
        _ = try b.softmaxClassifier(x, units: 1000, name: "predictions")
        return try b.finished()
    }

    /// Keras's official weights (its documentation gives their license).
    public static let descriptor = NetworkDescriptor.kerasApplication(
        "xception", depth: 71, sizeMB: 85, parametersMillions: 22.9, side: side,
        folder: "xception", file: "xception_weights_tf_dim_ordering_tf_kernels.h5", license: "MIT") { try network(weights: $0) }
        .citing(top1: 79.0, "the Keras Applications table (keras.io/api/applications)")
}
