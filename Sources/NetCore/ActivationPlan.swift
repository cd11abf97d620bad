/// Where each activation of one run would live in a single arena, planned by liveness as ggml's graph allocator
/// does: a node's output lives from the step that computes it to the step of its last reader (a requested output
/// to the end), and outputs whose lifetimes do not meet share memory. Placed largest first, each at the lowest
/// offset free of every placed buffer it is alive with.
public struct ActivationPlan: Sendable, Equatable {
    /// One activation's place in the arena, in floats, and its lifetime in steps (node indices).
    public struct Buffer: Sendable, Equatable {
        public let name: String
        public let offset: Int
        public let size: Int
        public let firstStep: Int
        public let lastStep: Int

        func isAlive(with other: Buffer) -> Bool { firstStep <= other.lastStep && other.firstStep <= lastStep }
        func overlaps(_ other: Buffer) -> Bool { offset < other.offset + other.size && other.offset < offset + size }
    }

    public let buffers: [Buffer]
    /// Floats the arena needs: the planned peak.
    public let arenaSize: Int
    /// The most floats alive at any one step: no plan can do with less.
    public let peakLiveSize: Int
    /// Floats of all activations together, as if none were ever released.
    public let totalSize: Int

    /// Whether no two buffers alive at the same step share memory.
    public var isConsistent: Bool {
        buffers.indices.allSatisfy { i in buffers[(i + 1)...].allSatisfy { !(buffers[i].isAlive(with: $0) && buffers[i].overlaps($0)) } }
    }
}

extension Network {
    /// The activation plan of a batch of `batch` examples that produces `outputs` (default: ``outputName``); the
    /// input belongs to the caller and is not planned.
    public func activationPlan(batch: Int = 1, outputs: [String]? = nil) -> ActivationPlan {
        let wanted = Set(outputs ?? [outputName])
        let needed = neededNodes(for: wanted)
        let steps = nodes.enumerated().filter { needed.contains($0.element.name) }
        var lastStep: [String: Int] = [:]
        for (step, node) in steps { for source in node.inputs { lastStep[source] = step } }
        let end = steps.last?.offset ?? 0
        var pending = steps.map { step, node in
            ActivationPlan.Buffer(name: node.name, offset: 0, size: batch * (shapes[node.name] ?? []).reduce(1, *), firstStep: step,
                                  lastStep: wanted.contains(node.name) ? end : max(step, lastStep[node.name] ?? step))
        }
        pending.sort { $0.size != $1.size ? $0.size > $1.size : $0.firstStep < $1.firstStep }
        var placed: [ActivationPlan.Buffer] = []
        for buffer in pending {
            // The lowest offset clear of every placed buffer alive at the same time.
            let blocking = placed.filter { $0.isAlive(with: buffer) }.sorted { $0.offset < $1.offset }
            var offset = 0
            for other in blocking where offset + buffer.size > other.offset && offset < other.offset + other.size {
                offset = other.offset + other.size
            }
            placed.append(ActivationPlan.Buffer(name: buffer.name, offset: offset, size: buffer.size,
                                                firstStep: buffer.firstStep, lastStep: buffer.lastStep))
        }
        placed.sort { $0.firstStep < $1.firstStep }
        let peakLive = steps.map { step, _ in placed.filter { $0.firstStep <= step && step <= $0.lastStep }.reduce(0) { $0 + $1.size } }.max() ?? 0
        return ActivationPlan(buffers: placed, arenaSize: placed.map { $0.offset + $0.size }.max() ?? 0, peakLiveSize: peakLive,
                              totalSize: placed.reduce(0) { $0 + $1.size })
    }
}
