import Formats
import NetCore

/// NASNet-A (Zoph et al. 2018) as `keras.applications.NASNetMobile` and `NASNetLarge` define it, MATLAB's `nasnetmobile`
/// (4 @ 1056, 224×224, 5.3 M parameters) and `nasnetlarge` (6 @ 4032, 331×331, 88.9 M): a strided stem convolution,
/// two reduction cells, then three stacks of N normal cells separated by reduction cells, each cell reading the two
/// cells before it; input scaled to −1…1. Weights: Keras's official HDF5 files, every weighted layer named.
public enum NASNet {
    /// The arguments `keras.applications` passes to its `NASNet` function (the filter multiplier is 2 for both).
    struct Configuration: Sendable {
        let side: Int
        let penultimateFilters: Int
        let cells: Int
        let stemFilters: Int
        /// Whether a normal cell after a reduction cell reads the cell before the reduction (NASNet-Large) rather than
        /// the reduction cell's input.
        let skipReduction: Bool
    }

    static let mobile = Configuration(side: 224, penultimateFilters: 1056, cells: 4, stemFilters: 32, skipReduction: false)
    static let large = Configuration(side: 331, penultimateFilters: 4032, cells: 6, stemFilters: 96, skipReduction: true)

    /// Keras's `imagenet_utils.correct_pad`: the zeros before and after each side that a strided `size`² window
    /// needs on a `side`-wide input (one fewer before on an even side).
    static func correctPad(side: Int, size: Int) -> (before: Int, after: Int) {
        (size / 2 - (1 - side % 2), size / 2)
    }

    /// `_separable_conv_block`: twice ReLU → separable convolution → BatchNorm; the first takes the stride (on a
    /// Keras-padded input when it is 2).
    static func separableBlock(_ b: inout KerasNetworkBuilder, _ input: String, _ filters: Int, size: Int, stride: Int = 1,
                               id: String) throws -> String {
        var x = try b.relu(input)
        if stride == 2 {
            let pad = correctPad(side: b.net.shapes[x]![0], size: size)
            x = try b.zeroPad(x, top: pad.before, bottom: pad.after, left: pad.before, right: pad.after, name: "separable_conv_1_pad_\(id)")
        }
        x = try b.separableConv(x, filters, size: size, stride: stride, same: stride == 1, name: "separable_conv_1_\(id)")
        x = try b.relu(try b.batchNorm(x, scale: true, name: "separable_conv_1_bn_\(id)"))
        x = try b.separableConv(x, filters, size: size, name: "separable_conv_2_\(id)")
        return try b.batchNorm(x, scale: true, name: "separable_conv_2_bn_\(id)")
    }

    /// `_adjust_block`: the earlier cell's output `p` brought to the shape of `ip` with `filters` channels — halved
    /// in size by two 1×1 convolutions on the even and (shifted by a pixel) odd positions, or projected by one.
    static func adjust(_ b: inout KerasNetworkBuilder, _ p: String?, _ ip: String, _ filters: Int, id: String) throws -> String {
        guard let p else { return ip }
        let previous = b.net.shapes[p]!, current = b.net.shapes[ip]!
        if previous[1] != current[1] {
            let activated = try b.relu(p, name: "adjust_relu_1_\(id)")
            var p1 = try b.pool(.average, activated, size: 1, stride: 2, name: "adjust_avg_pool_1_\(id)")
            p1 = try b.conv(p1, filters / 2, (1, 1), name: "adjust_conv_1_\(id)")
            var p2 = try b.zeroPad(activated, top: 0, bottom: 1, left: 0, right: 1)
            p2 = try b.zeroPad(p2, top: -1, bottom: 0, left: -1, right: 0, kind: "cropping2d")
            p2 = try b.pool(.average, p2, size: 1, stride: 2, name: "adjust_avg_pool_2_\(id)")
            p2 = try b.conv(p2, filters / 2, (1, 1), name: "adjust_conv_2_\(id)")
            return try b.batchNorm(try b.concatenate([p1, p2]), scale: true, name: "adjust_bn_\(id)")
        }
        guard previous[2] != filters else { return p }
        let projected = try b.conv(try b.relu(p), filters, (1, 1), name: "adjust_conv_projection_\(id)")
        return try b.batchNorm(projected, scale: true, name: "adjust_bn_\(id)")
    }

    /// `_normal_a_cell` (the paper's Figure 4, left): five sums of separable convolutions, 3×3 average pools and
    /// identities over `h` (this cell's input, projected) and `p` (the cell before), concatenated with `p`.
    static func normalCell(_ b: inout KerasNetworkBuilder, _ ip: String, _ p: String?, _ filters: Int, id: String) throws -> (String, String) {
        let p = try adjust(&b, p, ip, filters, id: id)
        let h = try b.batchNorm(try b.conv(try b.relu(ip), filters, (1, 1), name: "normal_conv_1_\(id)"), scale: true, name: "normal_bn_1_\(id)")
        let x1 = try b.add([try separableBlock(&b, h, filters, size: 5, id: "normal_left1_\(id)"),
                            try separableBlock(&b, p, filters, size: 3, id: "normal_right1_\(id)")], name: "normal_add_1_\(id)")
        let x2 = try b.add([try separableBlock(&b, p, filters, size: 5, id: "normal_left2_\(id)"),
                            try separableBlock(&b, p, filters, size: 3, id: "normal_right2_\(id)")], name: "normal_add_2_\(id)")
        let x3 = try b.add([try b.pool(.average, h, size: 3, stride: 1, same: true, name: "normal_left3_\(id)"), p], name: "normal_add_3_\(id)")
        let x4 = try b.add([try b.pool(.average, p, size: 3, stride: 1, same: true, name: "normal_left4_\(id)"),
                            try b.pool(.average, p, size: 3, stride: 1, same: true, name: "normal_right4_\(id)")], name: "normal_add_4_\(id)")
        let x5 = try b.add([try separableBlock(&b, h, filters, size: 3, id: "normal_left5_\(id)"), h], name: "normal_add_5_\(id)")
        return (try b.concatenate([p, x1, x2, x3, x4, x5], name: "normal_concat_\(id)"), ip)
    }

    /// `_reduction_a_cell` (Figure 4, right): strided separable convolutions and pools (those on `h` over Keras's
    /// zero padding, which a max pool sees too), four sums concatenated.
    static func reductionCell(_ b: inout KerasNetworkBuilder, _ ip: String, _ p: String?, _ filters: Int, id: String) throws -> (String, String) {
        let p = try adjust(&b, p, ip, filters, id: id)
        let h = try b.batchNorm(try b.conv(try b.relu(ip), filters, (1, 1), name: "reduction_conv_1_\(id)"), scale: true, name: "reduction_bn_1_\(id)")
        let pad = correctPad(side: b.net.shapes[h]![0], size: 3)
        let h3 = try b.zeroPad(h, top: pad.before, bottom: pad.after, left: pad.before, right: pad.after, name: "reduction_pad_1_\(id)")
        let x1 = try b.add([try separableBlock(&b, h, filters, size: 5, stride: 2, id: "reduction_left1_\(id)"),
                            try separableBlock(&b, p, filters, size: 7, stride: 2, id: "reduction_right1_\(id)")], name: "reduction_add_1_\(id)")
        let x2 = try b.add([try b.pool(.max, h3, size: 3, stride: 2, name: "reduction_left2_\(id)"),
                            try separableBlock(&b, p, filters, size: 7, stride: 2, id: "reduction_right2_\(id)")], name: "reduction_add_2_\(id)")
        let x3 = try b.add([try b.pool(.average, h3, size: 3, stride: 2, name: "reduction_left3_\(id)"),
                            try separableBlock(&b, p, filters, size: 5, stride: 2, id: "reduction_right3_\(id)")], name: "reduction_add3_\(id)")
        let x4 = try b.add([x2, try b.pool(.average, x1, size: 3, stride: 1, same: true, name: "reduction_left4_\(id)")])
        let x5 = try b.add([try separableBlock(&b, x1, filters, size: 3, id: "reduction_left4_\(id)"),
                            try b.pool(.max, h3, size: 3, stride: 2, name: "reduction_right5_\(id)")], name: "reduction_add4_\(id)")
        return (try b.concatenate([x2, x3, x4, x5], name: "reduction_concat_\(id)"), ip)
    }

    static func network(_ c: Configuration, weights: KerasWeights?) throws -> Network {
        var b = KerasNetworkBuilder(inputShape: [c.side, c.side, 3], file: weights)
        let filters = c.penultimateFilters / 24
        var x = try b.conv(b.net.inputName, c.stemFilters, (3, 3), stride: 2, same: false, name: "stem_conv1")
        x = try b.batchNorm(x, scale: true, name: "stem_bn1")
        var p: String?
        (x, p) = try reductionCell(&b, x, p, filters / 4, id: "stem_1")
        (x, p) = try reductionCell(&b, x, p, filters / 2, id: "stem_2")
        for stack in 0..<3 {
            let width = filters << stack
            if stack > 0 {
                let id = "reduce_\(stack * c.cells)"
                let (reduced, input) = try reductionCell(&b, x, p, width, id: id)
                (x, p) = (reduced, c.skipReduction ? p : input)
            }
            // Keras numbers the normal cells 0…N−1, N+1…2N, 2N+1…3N.
            for cell in 0..<c.cells { (x, p) = try normalCell(&b, x, p, width, id: "\(stack * c.cells + cell + (stack > 0 ? 1 : 0))") }
        }
        x = try b.relu(x)
        x = try b.globalAveragePool(x, name: b.autoName("global_average_pooling2d").node)
        _ = try b.softmaxClassifier(x, units: 1000, name: "predictions")
        return try b.finished()
    }

    // Keras's official NASNet weights, converted from TF-slim's checkpoints (Apache-2.0).
    public static let mobileDescriptor = NetworkDescriptor.kerasApplication(
        "nasnetmobile", depth: nil, sizeMB: 20, parametersMillions: 5.3, side: mobile.side,
        folder: "nasnet", file: "NASNet-mobile.h5", license: "Apache-2.0") { try network(mobile, weights: $0) }
        .citing(top1: 74.4, "the Keras Applications table (keras.io/api/applications)")

    public static let largeDescriptor = NetworkDescriptor.kerasApplication(
        "nasnetlarge", depth: nil, sizeMB: 332, parametersMillions: 88.9, side: large.side,
        folder: "nasnet", file: "NASNet-large.h5", license: "Apache-2.0") { try network(large, weights: $0) }
        .citing(top1: 82.5, "the Keras Applications table (keras.io/api/applications)")
}
