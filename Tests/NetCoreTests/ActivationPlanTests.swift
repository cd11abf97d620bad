import Base
import CKernels
import Foundation
import Glibc
import NetCore
import TestSupport
import Testing

/// The liveness planner behind `audionet info`'s activation memory.
@Suite struct ActivationPlanTests {
    /// input 100 → a 50 → b 100 → c 10: a dies when b is made, so c can take a's place.
    @Test func aChainNeedsOnlyTwoAdjacentActivationsAtOnce() throws {
        var net = Network(inputShape: [100])
        try net.add("a", Dense(inputFeatures: 100, outputFeatures: 50))
        try net.add("b", Dense(inputFeatures: 50, outputFeatures: 100))
        try net.add("c", Dense(inputFeatures: 100, outputFeatures: 10))
        let plan = net.activationPlan(batch: 2)
        #expect(plan.totalSize == 2 * 160)
        #expect(plan.peakLiveSize == 2 * 150 && plan.arenaSize == 2 * 150)
        let byName = Dictionary(uniqueKeysWithValues: plan.buffers.map { ($0.name, $0) })
        #expect(byName["c"]!.slot == byName["a"]!.slot, "\(plan.buffers)")
        #expect(plan.isConsistent)
    }

    /// A residual connection keeps its source alive until the sum, so nothing in between may use its memory.
    @Test func aSkipConnectionStaysAliveUntilItsSum() throws {
        var net = Network(inputShape: [64])
        try net.add("skip", Dense(inputFeatures: 64, outputFeatures: 64))
        try net.add("inner1", Dense(inputFeatures: 64, outputFeatures: 64))
        try net.add("inner2", Dense(inputFeatures: 64, outputFeatures: 64))
        try net.add("sum", Add(), inputs: ["skip", "inner2"])
        let plan = net.activationPlan()
        let skip = try #require(plan.buffers.first { $0.name == "skip" })
        #expect(skip.firstStep == 0 && skip.lastStep == 3)
        #expect(plan.isConsistent && plan.arenaSize == 3 * 64)
    }

    /// Where the cores share a pass's layers, an activation takes only a slot of its own size, so that each core writes
    /// lines it wrote itself: in input 100 → a 50 → b 100 → c 10 → d 50, d (not c) takes a's slot.
    @Test func sameSizeSlotsHoldActivationsOfOneSizeOnly() throws {
        var net = Network(inputShape: [100])
        try net.add("a", Dense(inputFeatures: 100, outputFeatures: 50))
        try net.add("b", Dense(inputFeatures: 50, outputFeatures: 100))
        try net.add("c", Dense(inputFeatures: 100, outputFeatures: 10))
        try net.add("d", Dense(inputFeatures: 10, outputFeatures: 50))
        let shared = net.activationPlan(sameSizeSlots: true)
        #expect(shared.isConsistent && shared.buffers.allSatisfy { $0.size == shared.slotSizes[$0.slot] }, "\(shared.buffers)")
        let byName = Dictionary(uniqueKeysWithValues: shared.buffers.map { ($0.name, $0) })
        #expect(byName["d"]!.slot == byName["a"]!.slot && shared.arenaSize == 160, "\(shared.buffers)")
        // Planned for one core, c fits in a's slot and d in b's: 150 floats.
        let alone = net.activationPlan()
        #expect(alone.arenaSize == 150 && !alone.buffers.allSatisfy { $0.size == alone.slotSizes[$0.slot] })
    }

    /// A requested intermediate output is kept to the end: it is returned, not released.
    @Test func aRequestedOutputIsNeverReused() throws {
        var net = Network(inputShape: [32])
        try net.add("a", Dense(inputFeatures: 32, outputFeatures: 32))
        try net.add("b", Dense(inputFeatures: 32, outputFeatures: 32))
        try net.add("c", Dense(inputFeatures: 32, outputFeatures: 32))
        let plan = net.activationPlan(outputs: ["a", "c"])
        #expect(plan.buffers.first { $0.name == "a" }?.lastStep == 2)
        #expect(plan.arenaSize == 3 * 32 && plan.isConsistent)
    }
}

/// The runtime writes each activation where the plan puts it, and a caller's buffers carry over between runs.
@Suite struct PlannedRunTests {
    /// Convolutions of three algorithms, a depthwise layer, a skip connection, a concatenation and a pooled head:
    /// slots change hands between activations of different sizes.
    func mixedNetwork() throws -> Network {
        var generator = SeededGenerator(seed: 11)
        func weights(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -0.5...0.5, using: &generator) } }
        var net = Network(inputShape: [12, 12, 3])
        try net.add("stem", Conv2D(inputChannels: 3, outputChannels: 16, kernel: (3, 3), padding: .same, weights: weights(3 * 3 * 3 * 16),
                                   activation: .relu))
        try net.add("wide", Conv2D(inputChannels: 16, outputChannels: 16, kernel: (3, 3), padding: .same, weights: weights(9 * 16 * 16)))
        try net.add("depthwise", DepthwiseConv2D(channels: 16, kernel: (3, 3), padding: .same, weights: weights(9 * 16)))
        try net.add("sum", Add(activation: .relu), inputs: ["stem", "depthwise"])
        try net.add("pointwise", Conv2D(inputChannels: 16, outputChannels: 8, kernel: (1, 1), weights: weights(16 * 8)))
        try net.add("joined", Concat(), inputs: ["pointwise", "sum"])
        try net.add("pool", Pool2D(.max, kernel: (2, 2), stride: (2, 2)))
        try net.add("mean", GlobalAveragePool())
        try net.add("dense", Dense(inputFeatures: 24, outputFeatures: 5, weights: weights(24 * 5), bias: weights(5)))
        try net.add("softmax", Softmax())
        return net
    }

    /// The same nodes computed one by one, each layer writing a new tensor: no planning involved.
    func layerByLayer(_ net: Network, _ input: Tensor) -> Tensor {
        var values = [net.inputName: input]
        for node in net.nodes { values[node.name] = node.layer.forward(node.inputs.map { values[$0]! }) }
        return values[net.outputName]!
    }

    @Test func runsReusingBuffersEqualTheLayersRunOneByOne() throws {
        let net = try mixedNetwork()
        let plan = net.activationPlan(batch: 2)
        #expect(plan.isConsistent && plan.slotSizes.count < net.nodes.count, "\(plan.slotSizes)")
        var generator = SeededGenerator(seed: 5)
        let buffers = ActivationBuffers()
        // Batch sizes change between runs: slots shrink and grow, holding stale values from the run before. On two
        // threads a pass's layers are shared (same-size slots: another plan for the same buffers), on one they are not.
        for (batch, threads) in [(2, 1), (3, 1), (2, 2), (1, 2), (1, 1)] {
            Parallel.setThreadCount(threads)
            defer { Parallel.setThreadCount(nil) }
            let input = Tensor(shape: [batch, 12, 12, 3], scalars: (0..<(batch * 432)).map { _ in Float.random(in: -1...1, using: &generator) })
            let output = try #require(try net.run(input, outputs: ["softmax"], reusing: buffers)["softmax"])
            #expect(output.scalars == layerByLayer(net, input).scalars, "batch \(batch), \(threads) threads")
            #expect(!output.scalars.contains { $0.isNaN })
        }
    }
}

extension PlannedRunTests {
    /// `audionet info` plans without making the weights' inference forms: the plan is the prepared network's,
    /// fusions included (the expansion and residual fusions change which activations exist).
    @Test func aPlanAtAPrecisionIsThePlanOfThePreparedNetwork() throws {
        var generator = SeededGenerator(seed: 3)
        func weights(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -0.5...0.5, using: &generator) } }
        // A MobileNetV2 block (expansion, depthwise, projection, residual sum) beside a CREPE-like tall FFT kernel.
        var net = Network(inputShape: [128, 1, 8])
        try net.add("expand", Conv2D(inputChannels: 8, outputChannels: 32, kernel: (1, 1), weights: weights(8 * 32), activation: .relu6))
        try net.add("depthwise", DepthwiseConv2D(channels: 32, kernel: (3, 3), padding: .same, weights: weights(9 * 32), activation: .relu6))
        try net.add("project", Conv2D(inputChannels: 32, outputChannels: 8, kernel: (1, 1), weights: weights(32 * 8)))
        try net.add("sum", Add(), inputs: ["input", "project"])
        try net.add("tall", Conv2D(inputChannels: 8, outputChannels: 8, kernel: (64, 1), padding: .same, weights: weights(64 * 8 * 8)))
        #expect((net.nodes.last?.layer as? Conv2D)?.algorithm == .fft)
        for precision in [Precision.float32, .int8] {
            let prepared = net.prepared(for: precision).activationPlan()
            #expect(net.activationPlan(at: precision) == prepared, "\(precision)")
            // An int8 projection merges with its sum anywhere; float32 layers where the packed product has its body.
            if precision == .int8 || an_packed_gemm_has_body() != 0 {
                #expect(prepared.buffers.count < net.activationPlan().buffers.count, "\(precision): nothing was fused")
            }
        }
    }
}

/// Each convolution's algorithm is chosen once, for the input shape its network gives it.
@Suite struct ConvolutionAlgorithmTests {
    func algorithm(_ conv: Conv2D, input: [Int]) throws -> ConvolutionAlgorithm? {
        var net = Network(inputShape: input)
        try net.add("conv", conv)
        return (net.nodes[0].layer as? Conv2D)?.algorithm
    }

    @Test func theNetworkPlansEachConvolutionForItsInputShape() throws {
        #expect(try algorithm(Conv2D(inputChannels: 64, outputChannels: 128, kernel: (1, 1)), input: [14, 14, 64]) == .pointwise)
        #expect(try algorithm(Conv2D(inputChannels: 3, outputChannels: 32, kernel: (3, 3), stride: (2, 2), padding: .same),
                              input: [224, 224, 3]) == .fewInputs)
        #expect(try algorithm(Conv2D(inputChannels: 64, outputChannels: 64, kernel: (3, 3), padding: .same), input: [56, 56, 64]) == .winograd)
        #expect(try algorithm(Conv2D(inputChannels: 64, outputChannels: 64, kernel: (3, 3), stride: (2, 2), padding: .same),
                              input: [56, 56, 64]) == .im2col)
        // CREPE's layers: 1-D kernels of 64 taps over width-1 images, by FFT unless the output is short beside the kernel.
        #expect(try algorithm(Conv2D(inputChannels: 256, outputChannels: 256, kernel: (64, 1), padding: .same), input: [128, 1, 256]) == .fft)
        #expect(try algorithm(Conv2D(inputChannels: 256, outputChannels: 512, kernel: (64, 1), padding: .same), input: [8, 1, 256]) == .rows)
        #expect(try algorithm(Conv2D(inputChannels: 32, outputChannels: 32, kernel: (64, 1), padding: .same), input: [128, 1, 32]) == .fft)
        // A short kernel saves nothing by FFT: tall outputs by taps.
        #expect(try algorithm(Conv2D(inputChannels: 32, outputChannels: 32, kernel: (8, 1), padding: .same), input: [128, 1, 32]) == .taps)
    }

    /// A grouped 1×1 convolution (ShuffleNet's) runs as one GEMM per group on the group's channels in place: each
    /// output equals its group's dot product computed directly.
    @Test func aGroupedPointwiseConvolutionMultipliesEachGroupOnItsOwn() throws {
        let (inputs, outputs, groups) = (8, 12, 4)
        let perInput = inputs / groups, perOutput = outputs / groups
        var generator = SeededGenerator(seed: 5)
        let weights = (0..<(perInput * outputs)).map { _ in Float.random(in: -1...1, using: &generator) }
        let bias = (0..<outputs).map { _ in Float.random(in: -1...1, using: &generator) }
        let conv = Conv2D(inputChannels: inputs, outputChannels: outputs, kernel: (1, 1), groups: groups, weights: weights, bias: bias)
        #expect(try algorithm(conv, input: [3, 5, inputs]) == .pointwise)
        var net = Network(inputShape: [3, 5, inputs])
        try net.add("conv", conv)
        let input = Tensor(shape: [2, 3, 5, inputs], scalars: (0..<(2 * 15 * inputs)).map { _ in Float.random(in: -1...1, using: &generator) })
        let output = try net.run(input)
        for pixel in 0..<30 {
            for o in 0..<outputs {
                let group = o / perOutput
                let expected = (0..<perInput).reduce(bias[o]) { $0 + input.scalars[pixel * inputs + group * perInput + $1] * weights[$1 * outputs + o] }
                #expect(abs(output.scalars[pixel * outputs + o] - expected) <= 1e-5, "pixel \(pixel), output \(o)")
            }
        }
    }

    /// The planned convolution computes what one that chooses at each call computes.
    @Test func aPlannedConvolutionEqualsAnUnplannedOne() throws {
        var generator = SeededGenerator(seed: 3)
        let weights = (0..<(3 * 3 * 16 * 16)).map { _ in Float.random(in: -1...1, using: &generator) }
        let conv = Conv2D(inputChannels: 16, outputChannels: 16, kernel: (3, 3), padding: .same, weights: weights)
        var net = Network(inputShape: [8, 8, 16])
        try net.add("conv", conv)
        let input = Tensor(shape: [2, 8, 8, 16], scalars: (0..<2048).map { _ in Float.random(in: -1...1, using: &generator) })
        #expect(conv.algorithm == nil && (net.nodes[0].layer as? Conv2D)?.algorithm == .winograd)
        #expect(try net.run(input).scalars == conv.forward([input]).scalars)
    }
}

/// Activations of tens of megabytes (MobileNetV2 at batch 16: 77 MB) come back from the heap on the next run
/// instead of being mapped afresh and faulted in page by page (70 ms for 80 MB on the machines measured).
@Suite struct AllocatorPolicyTests {
    /// Minor page faults of the calling thread so far.
    func threadPageFaults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (a GNU extension the Glibc module leaves out)
        return usage.ru_minflt
    }

    /// Page faults while taking and writing a 48 MB buffer (above glibc's largest default mapping threshold, 32 MB).
    func faultsWritingAFreshBuffer() -> Int {
        let count = 12 << 20, before = threadPageFaults()
        let buffer = [Float](unsafeUninitializedCapacity: count) { memory, initialized in
            for index in stride(from: 0, to: count, by: 1024) { memory[index] = 1 }  // one write per 4 KB page
            initialized = count
        }
        return withExtendedLifetime(buffer) { threadPageFaults() - before }
    }

    /// Run in a process of its own: beside the whole suite, this thread's glibc arena may hold other tests' data, and
    /// a 48 MB block that no longer fits the arena's heap (64 MB at most) is mapped afresh whatever the policy says
    /// (it failed that way twice in full runs, all three pairs faulting).
    @Test func aFreedLargeBufferIsReusedWithoutFaultingItInAgain() throws {
        let tests = TestSupport.executable.deletingLastPathComponent().appendingPathComponent("AudioNetPackageTests.xctest")
        let result = try TestSupport.run(["--testing-library", "swift-testing", "--filter", "freedBufferIsReusedInThisProcess"],
                                         environment: [Self.alone: "1"], program: tests)
        let summary = result.stderr.split(separator: "\n").last { $0.contains("Test run with") } ?? "no summary"
        #expect(result.status == 0 && summary.contains("1 test") && summary.contains("passed"), "\(summary)\n\(result.stderr.suffix(600))")
    }

    /// Set in the process that runs ``freedBufferIsReusedInThisProcess()`` alone.
    static let alone = "AUDIONET_ALLOCATOR_TEST_ALONE"

    @Test(.enabled(if: ProcessInfo.processInfo.environment[alone] != nil, "runs in a process of its own, started by aFreedLargeBufferIsReusedWithoutFaultingItInAgain"))
    func freedBufferIsReusedInThisProcess() {
        _ = AllocatorPolicy.configure
        // The first buffer may find memory freed before; glibc's default maps every 48 MB block afresh. The best of
        // three pairs counts, which the default still fails every time.
        let pairs = (0..<3).map { _ in (first: faultsWritingAFreshBuffer(), second: faultsWritingAFreshBuffer()) }
        let best = pairs.map(\.second).min()!
        #expect(best < 1_000, "the second buffer reuses the first's pages: \(pairs) page faults for 12,288 pages")
    }
}
