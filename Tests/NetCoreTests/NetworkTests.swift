import Foundation
import NetCore
import TestSupport
import Testing

@Suite struct NetworkTests {
    /// The DAG of make_layer_fixtures.py: conv+BN+ReLU ‖ conv1x1 → add; concat with a third conv; pool, GAP, dense, softmax.
    func dag() throws -> Network {
        var net = Network(inputShape: [8, 8, 4])
        try net.add("a", Conv2D(inputChannels: 4, outputChannels: 8, kernel: (3, 3), padding: .symmetric(1, 1),
                                weights: try fixture("dag.a_weight").scalars, bias: try fixture("dag.a_bias").scalars), inputs: ["input"])
        try net.add("a_bn", BatchNorm(gamma: try fixture("dag.gamma").scalars, beta: try fixture("dag.beta").scalars,
                                      mean: try fixture("dag.mean").scalars, variance: try fixture("dag.variance").scalars, epsilon: 1e-3))
        try net.add("a_relu", ActivationLayer(.relu))
        try net.add("b", Conv2D(inputChannels: 4, outputChannels: 8, kernel: (1, 1),
                                weights: try fixture("dag.b_weight").scalars, bias: try fixture("dag.b_bias").scalars), inputs: ["input"])
        try net.add("added", Add(), inputs: ["a_relu", "b"])
        try net.add("c", Conv2D(inputChannels: 4, outputChannels: 4, kernel: (3, 3), padding: .symmetric(1, 1),
                                weights: try fixture("dag.c_weight").scalars, bias: try fixture("dag.c_bias").scalars), inputs: ["input"])
        try net.add("concat", Concat(), inputs: ["added", "c"])
        try net.add("pool", Pool2D(.max, kernel: (2, 2)))
        try net.add("gap", GlobalAveragePool())
        try net.add("dense", Dense(inputFeatures: 12, outputFeatures: 5, weights: try fixture("dag.dense_weight").scalars,
                                   bias: try fixture("dag.dense_bias").scalars))
        try net.add("softmax", Softmax())
        return net
    }

    @Test func residualAndConcatDAGMatchesPyTorch() throws {
        let net = try dag()
        let outputs = try net.run(try fixture("dag.input"), outputs: ["softmax", "added"])
        #expect(relativeError(outputs["softmax"]!, try fixture("dag.output")) <= 1e-4)
        #expect(relativeError(outputs["added"]!, try fixture("dag.added")) <= 1e-4)
    }

    @Test func foldingBatchNormAndReLUKeepsTheResult() throws {
        let net = try dag(), folded = net.optimized()
        #expect(folded.nodes.count == net.nodes.count - 2)
        #expect(folded.nodeNames.contains("a_relu") && !folded.nodeNames.contains("a_bn"))
        let input = try fixture("dag.input")
        #expect(relativeError(try folded.run(input), try fixture("dag.output")) <= 1e-4)
        #expect(relativeError(try folded.run(input, outputs: ["added"])["added"]!, try fixture("dag.added")) <= 1e-4)
    }

    /// A strided 3×3 convolution of 400×400×10 examples (a 6.4 MB activation each: one a core a pass), then a global
    /// average pooling ("conv", "gap").
    static func poolingNetwork(_ random: inout SeededGenerator) throws -> Network {
        var net = Network(inputShape: [400, 400, 10])
        try net.add("conv", Conv2D(inputChannels: 10, outputChannels: 10, kernel: (3, 3), stride: (2, 2), padding: .same,
                                   weights: random.floats(900, in: -0.3...0.3), activation: .relu))
        try net.add("gap", GlobalAveragePool())
        return net
    }

    /// A batch larger than a pass (examples whose largest activation is 6.4 MB: one a core) runs in passes, the last one
    /// short — one after another on one core, side by side on three (seven passes: one core takes three) — twice with
    /// the same buffers; every requested output, the input's own included, equals the examples run one by one.
    @Test(arguments: [1, 3])
    func aBatchLargerThanAPassGivesEachExamplesOutputs(threads: Int) throws {
        var random = SeededGenerator(seed: 3)
        let net = try Self.poolingNetwork(&random)
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(nil) }
        let perPass = net.examplesPerPass(threads: threads)
        #expect(perPass == threads && net.examplesPerPass(threads: 1) == 1)
        let batch = 2 * perPass + 1, size = 400 * 400 * 10
        let input = Tensor(shape: [batch, 400, 400, 10], scalars: random.floats(batch * size, in: -1...1))
        let buffers = ActivationBuffers()
        _ = try net.run(input.rows(Array(0..<(batch - 1))), outputs: ["gap"], reusing: buffers)
        let outputs = try net.run(input, outputs: ["gap", "conv", "input"], reusing: buffers)
        #expect(outputs["input"]!.shape == input.shape && outputs["input"]!.scalars == input.scalars)
        for example in 0..<batch {
            let alone = try net.run(input.rows([example]), outputs: ["gap", "conv"])
            for name in ["gap", "conv"] {
                let count = alone[name]!.count
                #expect(outputs[name]!.shape == [batch] + alone[name]!.shape.dropFirst(), "\(name)")
                #expect(Array(outputs[name]!.scalars[example * count..<(example + 1) * count]) == alone[name]!.scalars, "\(name), example \(example)")
            }
        }
    }

    /// A batch run in passes runs its head — the dense layers after the global pooling, on one vector an example — once
    /// on the whole batch (on one core and side by side on three), and each example's outputs are those it has alone:
    /// the body's bit for bit, the head's within float rounding (OpenBLAS's portable product, on qemu64, rounds a
    /// batch's rows otherwise than one row's).
    @Test(arguments: [1, 3])
    func aBatchInPassesRunsItsHeadOnceOnTheWholeBatch(threads: Int) throws {
        var random = SeededGenerator(seed: 4)
        var net = try Self.poolingNetwork(&random)
        try net.add("dense", Dense(inputFeatures: 10, outputFeatures: 7, weights: random.floats(70, in: -1...1), bias: random.floats(7, in: -1...1)))
        let batches = BatchSizes()
        try net.add("seen", BatchRecorder(batches: batches))
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(nil) }
        let batch = 2 * net.examplesPerPass(threads: threads) + 1, size = 400 * 400 * 10
        let input = Tensor(shape: [batch, 400, 400, 10], scalars: random.floats(batch * size, in: -1...1))
        let outputs = try net.run(input, outputs: ["seen", "gap"])
        #expect(batches.sizes == [batch], "the head ran on batches of \(batches.sizes)")
        for example in 0..<batch {
            let alone = try net.run(input.rows([example]), outputs: ["seen", "gap"])
            let gap = alone["gap"]!.count, seen = alone["seen"]!.count
            #expect(Array(outputs["gap"]!.scalars[example * gap..<(example + 1) * gap]) == alone["gap"]!.scalars, "gap, example \(example)")
            let head = Array(outputs["seen"]!.scalars[example * seen..<(example + 1) * seen])
            #expect(zip(head, alone["seen"]!.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "head, example \(example): \(head) against \(alone["seen"]!.scalars)")
        }
    }

    /// A batch in passes runs the layers whose weights outweigh their activations once on the whole batch too: here a
    /// 3×3 convolution of 590 KB of weights on 2×2 maps (16 KB an example) after a stride-2 one on 400×400 images (2.6
    /// MB an example), which stays in passes of one example a core. Each example's outputs are those it has alone.
    @Test(arguments: [1, 3])
    func aBatchInPassesRunsItsHeavyLayersOnSmallMapsOnceOnTheWholeBatch(threads: Int) throws {
        var random = SeededGenerator(seed: 5)
        var net = Network(inputShape: [400, 400, 10])
        try net.add("conv", Conv2D(inputChannels: 10, outputChannels: 16, kernel: (3, 3), stride: (2, 2), padding: .same,
                                   weights: random.floats(1440, in: -0.3...0.3), activation: .relu))
        let bodyBatches = BatchSizes(), tailBatches = BatchSizes()
        try net.add("body", BatchRecorder(batches: bodyBatches))
        try net.add("pool", Pool2D(.max, kernel: (100, 100)))
        try net.add("heavy", Conv2D(inputChannels: 16, outputChannels: 1024, kernel: (3, 3), padding: .same,
                                    weights: random.floats(9 * 16 * 1024, in: -0.1...0.1), bias: random.floats(1024, in: -0.1...0.1)))
        try net.add("tail", BatchRecorder(batches: tailBatches))
        try net.add("gap", GlobalAveragePool())
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(nil) }
        let batch = 2 * net.examplesPerPass(threads: threads) + 1, size = 400 * 400 * 10
        #expect(net.examplesPerPass(threads: 1) == 1)
        let input = Tensor(shape: [batch, 400, 400, 10], scalars: random.floats(batch * size, in: -1...1))
        let outputs = try net.run(input, outputs: ["gap", "pool"])
        #expect(tailBatches.sizes == [batch], "the heavy layer ran on batches of \(tailBatches.sizes)")
        #expect(bodyBatches.sizes.allSatisfy { $0 == 1 }, "the first layer ran on batches of \(bodyBatches.sizes)")
        for example in 0..<batch {
            let alone = try net.run(input.rows([example]), outputs: ["gap", "pool"])
            let pool = alone["pool"]!.count, gap = alone["gap"]!.count
            #expect(Array(outputs["pool"]!.scalars[example * pool..<(example + 1) * pool]) == alone["pool"]!.scalars, "pool, example \(example)")
            let tail = Array(outputs["gap"]!.scalars[example * gap..<(example + 1) * gap])
            #expect(zip(tail, alone["gap"]!.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "tail, example \(example)")
        }
    }

    /// A batch whose tail would read more than ``Network/tailPassBytes`` runs tail pass by tail pass, each after the
    /// body's passes over its examples (so that the body's outputs are held for one tail pass at a time): here a 16×16
    /// convolution at stride 512 (2 MB of weights, 4 KB out) reads a 32 MB map an example, so three examples run as a
    /// tail pass of two and one of one.
    @Test(arguments: [1, 3])
    func aBatchLargerThanATailPassRunsTailPassByTailPass(threads: Int) throws {
        var random = SeededGenerator(seed: 6)
        var net = Network(inputShape: [1024, 1024, 8])
        let batches = BatchSizes()
        try net.add("relu", ActivationLayer(.relu))
        try net.add("body", BatchRecorder(batches: batches, name: "body"))
        try net.add("heavy", Conv2D(inputChannels: 8, outputChannels: 256, kernel: (16, 16), stride: (512, 512),
                                    weights: random.floats(16 * 16 * 8 * 256, in: -0.1...0.1)))
        try net.add("tail", BatchRecorder(batches: batches, name: "tail"))
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(nil) }
        let batch = 3, size = 1024 * 1024 * 8
        let input = Tensor(shape: [batch, 1024, 1024, 8], scalars: random.floats(batch * size, in: -1...1))
        let outputs = try net.run(input, outputs: ["tail"])
        let order = batches.recorders, tailSizes = zip(order, batches.sizes).filter { $0.0 == "tail" }.map(\.1)
        #expect(tailSizes == [2, 1], "the tail ran on batches of \(tailSizes)")
        #expect(order.firstIndex(of: "tail")! < order.lastIndex(of: "body")!, "the passes ran in the order \(order)")
        for example in 0..<batch {
            let alone = try net.run(input.rows([example]), outputs: ["tail"])["tail"]!
            let part = Array(outputs["tail"]!.scalars[example * alone.count..<(example + 1) * alone.count])
            #expect(zip(part, alone.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "example \(example)")
        }
    }

    /// A pass holds as many examples a core as keep the largest activation within a quarter of the weights' bytes, at
    /// least 1 MB and at most 8 MB of it; an int8 weight counts one byte.
    @Test func examplesPerPassFollowTheWeightsBytes() throws {
        func network(denseWeights: Int, int8: Bool = false) throws -> Network {
            var net = Network(inputShape: [128, 128, 4])  // 256 KB an example
            let features = 128 * 128 * 4
            let dense = Dense(inputFeatures: features, outputFeatures: denseWeights / features)
            try net.add("flatten", Flatten())
            try net.add("dense", int8 ? Int8Linear(dense) : dense)
            return net
        }
        #expect(try network(denseWeights: 65_536).examplesPerPass(threads: 1) == 4)  // 256 KB of weights: 1 MB
        #expect(try network(denseWeights: 1 << 21).examplesPerPass(threads: 2) == 16)  // 8 MB of weights: 2 MB a core
        #expect(try network(denseWeights: 1 << 21, int8: true).examplesPerPass(threads: 1) == 4)  // 2 MB of int8 weights
        #expect(try network(denseWeights: 1 << 24).examplesPerPass(threads: 1) == 32)  // 64 MB of weights: 8 MB
    }

    @Test func unknownLayerNameListsTheValidNames() throws {
        #expect(throws: NetworkError.unknownLayer("nope", valid: try dag().nodeNames)) {
            try dag().run(Tensor(zeros: [1, 8, 8, 4]), outputs: ["nope"])
        }
    }

    @Test func wrongInputShapeNamesTheExpectedOne() throws {
        #expect {
            try dag().run(Tensor(zeros: [1, 8, 8, 3]))
        } throws: { error in
            (error as? NetworkError)?.description.contains("[N, 8, 8, 4]") == true
        }
    }

    @Test func summaryCountsParametersAndMultiplyAdds() throws {
        let rows = try dag().summary
        let a = rows.first { $0.name == "a" }!
        #expect(a.parameters == 3 * 3 * 4 * 8 + 8 && a.multiplyAdds == 8 * 8 * 8 * 3 * 3 * 4 && a.outputShape == [8, 8, 8])
        #expect(rows.last!.outputShape == [5])
    }

    @Test func buildingRejectsUnknownInputsAndBadShapes() {
        var net = Network(inputShape: [4, 4, 3])
        #expect(throws: NetworkError.self) { try net.add("x", ActivationLayer(.relu), inputs: ["missing"]) }
        #expect(throws: NetworkError.self) { try net.add("conv", Conv2D(inputChannels: 5, outputChannels: 2, kernel: (1, 1))) }
    }
}

/// The batch sizes a ``BatchRecorder`` saw, in order, and which recorder saw each (recorders may share one).
final class BatchSizes: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [(recorder: String, size: Int)] = []
    var sizes: [Int] { lock.withLock { seen.map(\.size) } }
    var recorders: [String] { lock.withLock { seen.map(\.recorder) } }
    func add(_ size: Int, by recorder: String) { lock.withLock { seen.append((recorder, size)) } }
}

/// Passes its vectors on and records each batch it is given.
struct BatchRecorder: Layer {
    let batches: BatchSizes
    var name = ""
    var typeName: String { "BatchRecorder" }
    func outputShape(for inputs: [[Int]]) throws -> [Int] { inputs[0] }
    func forward(_ inputs: [Tensor], into output: inout Tensor) {
        batches.add(inputs[0].shape[0], by: name)
        output.scalars = inputs[0].scalars
    }
}
