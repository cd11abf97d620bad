/// Where each activation of one run lives, planned by liveness as ggml's graph allocator plans its buffers: a node's
/// output lives from the step that computes it to the step of its last reader (a requested output to the end), and
/// takes a buffer (a slot) whose previous occupant is no longer alive. ``Network/run(_:outputs:reusing:)`` runs by
/// the plan, so one run needs only the slots' memory, and the next run of the same batch size allocates nothing.
public struct ActivationPlan: Sendable, Equatable {
    /// One activation: the slot it is written to, its size in floats, and its lifetime in steps (node indices).
    public struct Buffer: Sendable, Equatable {
        public let name: String
        public let slot: Int
        public let size: Int
        public let firstStep: Int
        public let lastStep: Int

        func isAlive(with other: Buffer) -> Bool { firstStep <= other.lastStep && other.firstStep <= lastStep }
    }

    /// The activations in the order they are computed.
    public let buffers: [Buffer]
    /// The size of each slot in floats: the largest activation it holds.
    public let slotSizes: [Int]
    /// The most floats alive at any one step: no plan can do with less.
    public let peakLiveSize: Int
    /// Floats of all activations together, as if none were ever released.
    public let totalSize: Int

    /// Floats of all slots together: the planned peak.
    public var arenaSize: Int { slotSizes.reduce(0, +) }

    /// Whether no two activations alive at the same step share a slot, and each fits its slot.
    public var isConsistent: Bool {
        buffers.allSatisfy { $0.size <= slotSizes[$0.slot] }
            && buffers.indices.allSatisfy { i in buffers[(i + 1)...].allSatisfy { !(buffers[i].isAlive(with: $0) && buffers[i].slot == $0.slot) } }
    }
}

extension Network {
    /// The activation plan of a batch of `batch` examples that produces `outputs` (default: ``outputName``); the
    /// input belongs to the caller and is not planned. Of two greedy assignments (TF Lite's shared-object
    /// strategies: in execution order, and largest first) the one needing less memory.
    ///
    /// With `sameSizeSlots` an activation takes only a slot whose occupants have its own size and kind of value (floats
    /// or uint8 codes, which fill a quarter of the slot): for passes whose layers the cores share, each core then writes
    /// lines that it wrote itself in an earlier layer, where an occupant of another size left them in the other core's
    /// cache, to be fetched before each write. On the 2-vCPU Zen 5 host, whose cores hand lines over at 42 GB/s in its
    /// slow mode (a 350–390 ns round trip), batch 1 on two cores, medians of 30 runs each, interleaved: calibrated int8
    /// MobileNetV2 832 → 972 images/s, float32 473 → 510, EfficientNet-B0 255 → 259, ResNet-50 within 2 %; in the fast
    /// mode (80 ns) the same within a few runs; one thread does not plan this way.
    public func activationPlan(batch: Int = 1, outputs: [String]? = nil, sameSizeSlots: Bool = false) -> ActivationPlan {
        let wanted = Set(outputs ?? [outputName])
        let needed = neededNodes(for: wanted)
        let steps = nodes.enumerated().filter { needed.contains($0.element.name) }
        var lastStep: [String: Int] = [:]
        for (step, node) in steps { for source in node.inputs { lastStep[source] = step } }
        let end = steps.last?.offset ?? 0
        let bytes = sameSizeSlots ? valueBytes : [:]
        let lifetimes = steps.map { step, node in
            (name: node.name, size: batch * (shapes[node.name] ?? []).reduce(1, *), first: step,
             last: wanted.contains(node.name) ? end : max(step, lastStep[node.name] ?? step), bytes: bytes[node.name] ?? MemoryLayout<Float>.size)
        }
        let peakLive = steps.map { step, _ in lifetimes.filter { $0.first <= step && step <= $0.last }.reduce(0) { $0 + $1.size } }.max() ?? 0
        let plans = [Self.assignInOrder(lifetimes, sameSize: sameSizeSlots), Self.assignLargestFirst(lifetimes, sameSize: sameSizeSlots)].map { slots, sizes in
            let buffers = zip(lifetimes, slots).map { lifetime, slot in
                ActivationPlan.Buffer(name: lifetime.name, slot: slot, size: lifetime.size, firstStep: lifetime.first, lastStep: lifetime.last)
            }
            return ActivationPlan(buffers: buffers, slotSizes: sizes, peakLiveSize: peakLive, totalSize: lifetimes.reduce(0) { $0 + $1.size })
        }
        return plans.min { $0.arenaSize < $1.arenaSize }!
    }

    typealias Lifetime = (name: String, size: Int, first: Int, last: Int, bytes: Int)

    /// Whether two activations have the same size and kind of value.
    static func sameLayout(_ a: Lifetime, _ b: Lifetime) -> Bool { a.size == b.size && a.bytes == b.bytes }

    /// In execution order, each activation takes the free slot that fits it most tightly, else the largest free
    /// slot (grown), else a new one; with `sameSize`, only a free slot of its layout (``sameLayout(_:_:)``), else a new
    /// one. Returns each activation's slot and the slot sizes.
    static func assignInOrder(_ lifetimes: [Lifetime], sameSize: Bool = false) -> ([Int], [Int]) {
        var sizes: [Int] = [], freeAfter: [Int] = [], firstOccupants: [Lifetime] = [], slots: [Int] = []
        for lifetime in lifetimes {
            let free = sizes.indices.filter { freeAfter[$0] < lifetime.first && (!sameSize || sameLayout(firstOccupants[$0], lifetime)) }
            let slot = free.filter { sizes[$0] >= lifetime.size }.min { sizes[$0] < sizes[$1] }
                ?? free.max { sizes[$0] < sizes[$1] }
                ?? { sizes.append(0); freeAfter.append(0); firstOccupants.append(lifetime); return sizes.count - 1 }()
            sizes[slot] = max(sizes[slot], lifetime.size)
            freeAfter[slot] = lifetime.last
            slots.append(slot)
        }
        return (slots, sizes)
    }

    /// Largest first, each activation joins the smallest slot none of whose occupants it meets in time (with
    /// `sameSize`, of its layout), else opens a slot of its own size.
    static func assignLargestFirst(_ lifetimes: [Lifetime], sameSize: Bool = false) -> ([Int], [Int]) {
        var sizes: [Int] = [], occupants: [[Lifetime]] = []
        var slots = [Int](repeating: 0, count: lifetimes.count)
        for index in lifetimes.indices.sorted(by: { lifetimes[$0].size > lifetimes[$1].size }) {
            let lifetime = lifetimes[index]
            let clear = sizes.indices.filter { slot in
                (!sameSize || sameLayout(occupants[slot][0], lifetime)) && occupants[slot].allSatisfy { $0.last < lifetime.first || lifetime.last < $0.first }
            }
            if let slot = clear.min(by: { sizes[$0] < sizes[$1] }) {
                occupants[slot].append(lifetime)
                slots[index] = slot
            } else {
                sizes.append(lifetime.size)
                occupants.append([lifetime])
                slots[index] = sizes.count - 1
            }
        }
        return (slots, sizes)
    }
}

/// An ``ActivationPlan``'s steps with their operands found by position instead of by name: position 0 is the network's
/// input, position `b + 1` the plan's buffer `b`. A pass then runs without hashing a node's name or testing a layer's
/// type (String keys and casts took 7 % of YAMNet's network time at two patches a pass).
struct PassSteps {
    struct Step {
        /// The node the step runs, the shape of its output (with the batch), and whether its layer reads uint8 codes.
        let node: Int, shape: [Int], readsCodes: Bool
        /// Positions of the node's inputs, in its order.
        let inputs: [Int]
        /// Buffers (plan indices) the step reads for the last time: they go back to their slots after it.
        let released: [Int]
    }

    let steps: [Step]
    /// The requested outputs' names and positions.
    let outputs: [(name: String, position: Int)]

    init(plan: ActivationPlan, network: Network, batch: Int, outputs wanted: Set<String>) {
        var position = [network.inputName: 0], index: [String: Int] = [:]
        for (b, buffer) in plan.buffers.enumerated() { position[buffer.name] = b + 1; index[buffer.name] = b }
        steps = plan.buffers.map { buffer in
            let node = network.nodes[buffer.firstStep]
            let released = Set(node.inputs).filter { !wanted.contains($0) }.compactMap { source in
                index[source].flatMap { plan.buffers[$0].lastStep == buffer.firstStep ? $0 : nil }
            }
            return Step(node: buffer.firstStep, shape: [batch] + network.shapes[node.name]!, readsCodes: node.layer is any CodeReading,
                        inputs: node.inputs.map { position[$0]! }, released: released.sorted())
        }
        self.outputs = wanted.sorted().map { ($0, position[$0]!) }
    }
}

/// The activation buffers of one caller (one thread), kept from one run of a network to the next: with them,
/// ``Network/run(_:outputs:reusing:)`` writes each layer's output into the slot its ``ActivationPlan`` gives it,
/// and a run of the batch size the buffers were planned for allocates no activation memory. Use one per network
/// and thread; not for sharing between threads.
public final class ActivationBuffers {
    private var slots: [[Float]] = []
    private var planned: (batch: Int, outputs: Set<String>, shared: Bool, plan: ActivationPlan, steps: PassSteps)?

    public init() {}

    /// The plan for `batch` examples and `outputs` and its steps, made once and kept while they stay the same; with
    /// same-size slots (``Network/activationPlan(batch:outputs:sameSizeSlots:)``) when the cores share its layers.
    func plan(for network: Network, batch: Int, outputs: Set<String>) -> (plan: ActivationPlan, steps: PassSteps) {
        let shared = Parallel.threadCount > 1
        if let planned, planned.batch == batch, planned.outputs == outputs, planned.shared == shared { return (planned.plan, planned.steps) }
        let plan = network.activationPlan(batch: batch, outputs: Array(outputs), sameSizeSlots: shared)
        let steps = PassSteps(plan: plan, network: network, batch: batch, outputs: outputs)
        planned = (batch, outputs, shared, plan, steps)
        if slots.count < plan.slotSizes.count { slots += Array(repeating: [], count: plan.slotSizes.count - slots.count) }
        return (plan, steps)
    }

    /// ``Network/examplesPerPass(threads:)`` on one core for `network`, found once (the buffers serve one network):
    /// finding it costs a look at every layer, 1 % of CREPE-tiny's 8-frame batches.
    func examplesPerCore(of network: Network) -> Int {
        if let perCore { return perCore }
        let found = network.examplesPerPass(threads: 1)
        perCore = found
        return found
    }
    private var perCore: Int?

    /// The slot's buffer holding `count` floats, moved out of the slot (so that writing to it copies nothing). Its
    /// values are stale: every layer writes its whole output. A buffer over twice the size needed is given back to
    /// the allocator and a fitting one taken instead: a small activation does not hold a large slot while it lives,
    /// and layer scratch (FFT spectra, im2col columns) can use that memory, as it could before activations were
    /// planned. A slot grows again for its large occupant without filling it (a fill is a pass over memory as long as
    /// the layer's own: a fifth of MobileNetV2's time at batch 16), from memory the allocator keeps
    /// (``AllocatorPolicy``).
    func take(slot: Int, count: Int) -> [Float] {
        var buffer: [Float] = []
        swap(&buffer, &slots[slot])
        if buffer.count >= count && buffer.capacity <= 2 * count {
            buffer.removeLast(buffer.count - count)
            return buffer
        }
        buffer = []
        return [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Returns a buffer to its slot once its activation is dead.
    func giveBack(_ buffer: [Float], of activation: ActivationPlan.Buffer) { slots[activation.slot] = buffer }

    /// Buffers of their own for `count` cores running passes side by side, kept for the next run.
    func forWorkers(_ count: Int) -> [WorkerBuffers] {
        while workers.count < count { workers.append(WorkerBuffers(buffers: ActivationBuffers())) }
        return Array(workers.prefix(count))
    }
    private var workers: [WorkerBuffers] = []

    /// One core's buffers, used by that core alone.
    struct WorkerBuffers: @unchecked Sendable {
        let buffers: ActivationBuffers
    }
}
