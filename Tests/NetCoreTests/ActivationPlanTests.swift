import NetCore
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
        #expect(byName["c"]!.offset == byName["a"]!.offset, "\(plan.buffers)")
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
