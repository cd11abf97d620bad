import Formats
import NetCore

/// Inception-ResNet-v2 (Szegedy et al. 2017) as `keras.applications.InceptionResNetV2` defines it, MATLAB's
/// `inceptionresnetv2`: an Inception stem, then 10 block35, 20 block17 and 10 block8 residual Inception blocks whose
/// branch sum is scaled (0.17, 0.1, 0.2; the last 1.0, without ReLU) before it is added; 299×299 input scaled to −1…1;
/// 55.9 M parameters. Weights: Keras's official HDF5 file.
public enum InceptionResNetV2 {
    public static let side = 299

    /// `conv2d_bn(x, filters, kernel, strides, padding, name)`: convolution, BatchNorm without scale, ReLU.
    static func convBN(_ b: inout KerasNetworkBuilder, _ input: String, _ filters: Int, _ kernel: (Int, Int), stride: Int = 1,
                       same: Bool = true, name: String? = nil) throws -> String {
        let conv = try b.conv(input, filters, kernel, stride: stride, same: same, name: name)
        return try b.relu(try b.batchNorm(conv, name: name.map { "\($0)_bn" }), name: name.map { "\($0)_ac" })
    }

    static func square(_ size: Int) -> (Int, Int) { (size, size) }

    /// `inception_resnet_block(x, scale, block_type, block_idx, activation)`: the branches, concatenated (`NAME_mixed`),
    /// projected by a biased 1×1 convolution (`NAME_conv`) to the input's channels, scaled and added, then ReLU (`NAME_ac`).
    static func residual(_ b: inout KerasNetworkBuilder, _ x: String, type: String, index: Int, scale: Float, activate: Bool = true) throws -> String {
        var branches: [String]
        switch type {
        case "block35":
            branches = [try convBN(&b, x, 32, square(1)),
                        try convBN(&b, try convBN(&b, x, 32, square(1)), 32, square(3)),
                        try convBN(&b, try convBN(&b, try convBN(&b, x, 32, square(1)), 48, square(3)), 64, square(3))]
        case "block17":
            branches = [try convBN(&b, x, 192, square(1)),
                        try convBN(&b, try convBN(&b, try convBN(&b, x, 128, square(1)), 160, (1, 7)), 192, (7, 1))]
        default:
            branches = [try convBN(&b, x, 192, square(1)),
                        try convBN(&b, try convBN(&b, try convBN(&b, x, 192, square(1)), 224, (1, 3)), 256, (3, 1))]
        }
        let name = "\(type)_\(index)"
        let mixed = try b.concatenate(branches, name: "\(name)_mixed")
        let up = try b.conv(mixed, b.net.shapes[x]!.last!, square(1), bias: true, scale: scale, name: "\(name)_conv")
        let sum = try b.add([x, up], kind: "custom_scale_layer")
        return activate ? try b.relu(sum, name: "\(name)_ac") : sum
    }

    public static func network(weights: KerasWeights?) throws -> Network {
        var b = KerasNetworkBuilder(inputShape: [side, side, 3], file: weights)
        var x = try convBN(&b, b.net.inputName, 32, square(3), stride: 2, same: false)
        x = try convBN(&b, x, 32, square(3), same: false)
        x = try convBN(&b, x, 64, square(3))
        x = try b.pool(.max, x, size: 3, stride: 2)
        x = try convBN(&b, x, 80, square(1), same: false)
        x = try convBN(&b, x, 192, square(3), same: false)
        x = try b.pool(.max, x, size: 3, stride: 2)
        // mixed_5b: Inception A.
        let a0 = try convBN(&b, x, 96, square(1))
        let a1 = try convBN(&b, try convBN(&b, x, 48, square(1)), 64, square(5))
        let a2 = try convBN(&b, try convBN(&b, try convBN(&b, x, 64, square(1)), 96, square(3)), 96, square(3))
        let aPool = try convBN(&b, try b.pool(.average, x, size: 3, stride: 1, same: true), 64, square(1))
        x = try b.concatenate([a0, a1, a2, aPool], name: "mixed_5b")
        for index in 1...10 { x = try residual(&b, x, type: "block35", index: index, scale: 0.17) }
        // mixed_6a: Reduction A.
        let r0 = try convBN(&b, x, 384, square(3), stride: 2, same: false)
        let r1 = try convBN(&b, try convBN(&b, try convBN(&b, x, 256, square(1)), 256, square(3)), 384, square(3), stride: 2, same: false)
        x = try b.concatenate([r0, r1, try b.pool(.max, x, size: 3, stride: 2)], name: "mixed_6a")
        for index in 1...20 { x = try residual(&b, x, type: "block17", index: index, scale: 0.1) }
        // mixed_7a: Reduction B.
        let s0 = try convBN(&b, try convBN(&b, x, 256, square(1)), 384, square(3), stride: 2, same: false)
        let s1 = try convBN(&b, try convBN(&b, x, 256, square(1)), 288, square(3), stride: 2, same: false)
        let s2 = try convBN(&b, try convBN(&b, try convBN(&b, x, 256, square(1)), 288, square(3)), 320, square(3), stride: 2, same: false)
        x = try b.concatenate([s0, s1, s2, try b.pool(.max, x, size: 3, stride: 2)], name: "mixed_7a")
        for index in 1...9 { x = try residual(&b, x, type: "block8", index: index, scale: 0.2) }
        x = try residual(&b, x, type: "block8", index: 10, scale: 1, activate: false)
        x = try convBN(&b, x, 1536, square(1), name: "conv_7b")
        x = try b.globalAveragePool(x, name: "avg_pool")
        _ = try b.softmaxClassifier(x, units: 1000, name: "predictions")
        return try b.finished()
    }

    /// Keras's official weights (its documentation gives their license).
    public static let descriptor = NetworkDescriptor.kerasApplication(
        "inceptionresnetv2", depth: 164, sizeMB: 209, parametersMillions: 55.9, side: side,
        folder: "inception_resnet_v2", file: "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5", license: "Apache-2.0") { try network(weights: $0) }
        .citing(top1: 80.3, "the Keras Applications table (keras.io/api/applications)")
}
