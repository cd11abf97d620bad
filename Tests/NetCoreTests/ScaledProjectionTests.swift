import Base
import CKernels
import NetCore
import TestSupport
import Testing

/// A squeeze-and-excitation scaling merged with the 1×1 projection after it (``ScaledProjection``).
@Suite struct ScaledProjectionTests {
    /// EfficientNet's MBConv end on a 10×9 map: a gate from the activation's channel means scales it, a projection
    /// reads the scaled activation and a residual is added (clamped by ReLU6); then a second scaling feeds a plain
    /// projection (swish). A third scaling, on a 2×2 map before 64 outputs, costs less on the activation than on the
    /// weights and stays a ``Multiply``.
    static func network() throws -> Network {
        var random = SeededGenerator(seed: 8)
        var net = Network(inputShape: [10, 9, 8])
        func gate(_ name: String, of input: String, channels: Int) throws {
            try net.add(name + "_mean", GlobalAveragePool(), inputs: [input])
            try net.add(name + "_shape", Reshape([1, 1, channels]))
            try net.add(name + "_reduce", random.pointwise(channels, 4, .swish))
            try net.add(name, random.pointwise(4, channels, .sigmoid))
        }
        try net.add("expand", random.pointwise(8, 24, .swish), inputs: ["input"])
        try gate("gate", of: "expand", channels: 24)
        try net.add("excite", Multiply(), inputs: ["expand", "gate"])
        try net.add("project", random.pointwise(24, 8))
        try net.add("block", Add(activation: .relu6), inputs: ["project", "input"])
        try gate("gate2", of: "block", channels: 8)
        try net.add("excite2", Multiply(), inputs: ["gate2", "block"])  // the scales first
        try net.add("head", random.pointwise(8, 40, .swish))
        try net.add("pool", Pool2D(.max, kernel: (5, 5), stride: (5, 5)))
        try gate("gate3", of: "pool", channels: 40)
        try net.add("excite3", Multiply(), inputs: ["pool", "gate3"])
        try net.add("wide", random.pointwise(40, 64))
        return net
    }

    /// Batches of 1 (rows shared over the cores), 3 on two cores (two examples a core each at once, then one sharing
    /// its rows) and 4: the merged layers give the separate layers' output to float rounding (`s · w` is rounded where
    /// the separate layers round `x · s`).
    @Test(arguments: [1, 3, 4])
    func aChannelScalingAndItsProjectionAsOneLayerGiveTheTwoLayersOutput(batch: Int) throws {
        let network = try Self.network()
        let prepared = network.prepared(for: .float32)
        let merged = prepared.nodes.filter { $0.layer is ScaledProjection }.map(\.name)
        let multiplies = prepared.nodes.filter { $0.layer is Multiply }.map(\.name)
        if an_packed_gemm_has_body() != 0 {
            #expect(merged == ["block", "head"] && multiplies == ["excite3"], "\(merged) \(multiplies)")
        } else {
            #expect(merged.isEmpty, "the projections multiply in BLAS here: nothing to merge")
        }
        var random = SeededGenerator(seed: UInt64(batch))
        let input = Tensor(shape: [batch, 10, 9, 8], scalars: random.floats(batch * 720, in: -3...3))
        Parallel.setThreadCount(2)
        defer { Parallel.setThreadCount(nil) }
        let separate = try network.optimized().run(input, outputs: ["block", "head", "wide"])
        let together = try prepared.run(input, outputs: ["block", "head", "wide"])
        for name in ["block", "head", "wide"] {
            TestSupport.expectFusedOutput(together[name]!, equals: separate[name]!, exact: false, activation: name == "block" ? .relu6 : .identity,
                                          "\(name) batch \(batch)")
        }
    }

    /// The merged layer checks its inputs: channel scales of the projection's input channels, a residual of its output's shape.
    @Test func aScaledProjectionRefusesScalesOfTheWrongShape() throws {
        var random = SeededGenerator(seed: 2)
        let layer = try #require(ScaledProjection(random.pointwise(6, 5)))
        #expect(try layer.outputShape(for: [[4, 3, 6], [1, 1, 6]]) == [4, 3, 5])
        #expect(throws: NetworkError.self) { try layer.outputShape(for: [[4, 3, 6], [1, 1, 5]]) }
        #expect(throws: NetworkError.self) { try layer.outputShape(for: [[4, 3, 6], [4, 3, 6]]) }
    }
}
