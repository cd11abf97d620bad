import CKernels
import NetCore
import TestSupport
import Testing

@Suite struct ProjectionAddTests {
    struct Case: Sendable, CustomStringConvertible {
        let inputs, outputs, height, width: Int
        let activation: Activation
        let residualFirst: Bool
        var description: String { "\(inputs)→\(outputs) \(height)×\(width) \(activation.name)\(residualFirst ? " residual first" : "")" }
    }

    /// Output channels on whole 16-channel panels, off them (45, 100), 8 or fewer (the half panel: 8, 24's last);
    /// 1 to 144 pixels an image, so that at batch 1 on two cores the cores share the panels (few rows) or the rows (144),
    /// every row tail of the 6- and 12-row tiles; the Add's inputs in either order; clamps from none to ReLU6.
    static let cases = [Case(inputs: 40, outputs: 24, height: 7, width: 9, activation: .relu6, residualFirst: true),
                        Case(inputs: 17, outputs: 16, height: 5, width: 5, activation: .identity, residualFirst: false),
                        Case(inputs: 64, outputs: 100, height: 12, width: 12, activation: .relu, residualFirst: false),
                        Case(inputs: 96, outputs: 8, height: 3, width: 3, activation: .relu6, residualFirst: true),
                        Case(inputs: 33, outputs: 45, height: 1, width: 1, activation: .identity, residualFirst: true)]

    static func layers(_ c: Case) -> (projection: Conv2D, add: Add) {
        var random = SeededGenerator(seed: UInt64(c.inputs * 100 + c.outputs))
        let projection = Conv2D(inputChannels: c.inputs, outputChannels: c.outputs, kernel: (1, 1),
                                weights: random.floats(c.inputs * c.outputs, in: -1...1), bias: random.floats(c.outputs, in: -1...1))
        return (projection.planned(for: [[c.height, c.width, c.inputs]]), Add(activation: c.activation))
    }

    static func inputs(_ c: Case, batch: Int) -> (input: Tensor, residual: Tensor) {
        var random = SeededGenerator(seed: UInt64(batch))
        let pixels = batch * c.height * c.width
        return (Tensor(shape: [batch, c.height, c.width, c.inputs], scalars: random.floats(pixels * c.inputs, in: -2...2)),
                Tensor(shape: [batch, c.height, c.width, c.outputs], scalars: random.floats(pixels * c.outputs, in: -4...4)))
    }

    /// Batch 1 and 4: the fused layer gives the two layers' output — bit for bit where the projection alone runs the
    /// packed product (AVX2 or AVX-512); within 1e-5 of it elsewhere.
    @Test(arguments: cases)
    func aProjectionAndTheResidualAdditionAsOneLayerGiveTheTwoLayersOutput(_ c: Case) throws {
        let (projection, add) = Self.layers(c)
        let fused = try #require(ProjectionAdd(projection, then: add))
        let exact = an_packed_gemm_has_body() != 0
        for batch in [1, 4] {
            let (input, residual) = Self.inputs(c, batch: batch)
            let projected = projection.forward([input])
            let separate = add.forward(c.residualFirst ? [residual, projected] : [projected, residual])
            let together = fused.forward([input, residual])
            TestSupport.expectFusedOutput(together, equals: separate, exact: exact, activation: c.activation, "\(c) batch \(batch)")
        }
    }

    /// The packed product's portable body adds the residual as its AVX2 body does.
    @Test(.enabled(if: SIMDBody.avx2.present, SIMDBody.avx2.absence), arguments: cases)
    func theFusedLayersPortableBodyAgreesWithItsAVX2Body(_ c: Case) throws {
        let (projection, add) = Self.layers(c)
        let fused = try #require(ProjectionAdd(projection, then: add))
        let (input, residual) = Self.inputs(c, batch: 2)
        let simd = CPU.withLevel(SIMDBody.avx2.level) { fused.forward([input, residual]).scalars }
        let portable = withPortableKernels { fused.forward([input, residual]).scalars }
        #expect(TestSupport.maxAbsDifference(simd, portable) <= 1e-5 * max(1, portable.map(abs).max() ?? 0))
    }

    /// The int8 projection (``Int8Linear``) adds the residual in its store: the two layers' output bit for bit (the same
    /// integer product, then the same one addition and clamp), in every int8 body this processor has — the portable one,
    /// AVX2 (or AVX-VNNI) and AVX-512 VNNI.
    @Test(arguments: cases)
    func anInt8ProjectionAndTheResidualAdditionAsOneLayerGiveTheTwoLayersOutput(_ c: Case) throws {
        let (float, add) = Self.layers(c)
        let projection = try #require(Int8Linear(float))
        let fused = try #require(ProjectionAdd(projection, then: add))
        #expect(fused.typeName == "ProjectionAdd (int8)")
        let levels = [0] + (SIMDBody.avx2.present ? [1] : []) + (SIMDBody.int8Wide.present ? [2] : [])
        for level in levels {
            for batch in [1, 4] {
                let (input, residual) = Self.inputs(c, batch: batch)
                let (separate, together) = CPU.withLevel(level) { () -> (Tensor, Tensor) in
                    let projected = projection.forward([input])
                    return (add.forward(c.residualFirst ? [residual, projected] : [projected, residual]), fused.forward([input, residual]))
                }
                TestSupport.expectFusedOutput(together, equals: separate, exact: true, activation: c.activation, "\(c) batch \(batch) level \(level)")
            }
        }
    }

    /// An inverted residual block's projection and a bottleneck's (the Add reading it second, then a ReLU) are fused;
    /// a projection another node reads too, one with its own activation and an Add that ends in swish are not. The
    /// output is the unfused network's, bit for bit, in float32 and in int8.
    @Test func onlyAProjectionThatFeedsNothingButAClampedResidualAdditionIsFused() throws {
        var random = SeededGenerator(seed: 6)
        var network = Network(inputShape: [10, 10, 8])
        try network.add("expand", random.pointwise(8, 32, .relu6))
        try network.add("project", random.pointwise(32, 8))
        try network.add("block", Add(), inputs: ["input", "project"])
        try network.add("reduce", random.pointwise(8, 8, .relu))
        try network.add("conv3", random.pointwise(8, 8))
        try network.add("bottleneck", Add(activation: .relu), inputs: ["conv3", "block"])
        try network.add("shared", random.pointwise(8, 8))
        try network.add("sum", Add(), inputs: ["shared", "bottleneck"])
        try network.add("activated", random.pointwise(8, 8, .relu))
        try network.add("sum2", Add(), inputs: ["activated", "sum"])
        try network.add("linear", random.pointwise(8, 8))
        try network.add("swished", Add(activation: .swish), inputs: ["linear", "sum2"])
        try network.add("joined", Concat(), inputs: ["swished", "shared"])
        let input = Tensor(shape: [2, 10, 10, 8], scalars: random.floats(2 * 10 * 10 * 8, in: -2...2))
        let prepared = network.prepared(for: .float32)
        let fused = prepared.nodes.filter { $0.layer is ProjectionAdd }.map(\.name)
        if an_packed_gemm_has_body() != 0 {
            #expect(fused == ["block", "bottleneck"])
        } else {
            #expect(fused.isEmpty, "the projections multiply in BLAS here: nothing to fuse")
        }
        let unfused = try network.optimized().run(input)
        #expect(try prepared.run(input).scalars == unfused.scalars)
        let int8 = network.prepared(for: .int8)
        #expect(int8.nodes.filter { $0.layer is ProjectionAdd }.map(\.name) == ["block", "bottleneck"], "int8 projections fuse everywhere")
        #expect(try int8.run(input).scalars == network.optimized().int8Quantized().run(input).scalars)
    }
}
