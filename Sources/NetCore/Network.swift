import Foundation

/// A network: a DAG of named layers fed by one input, executed in topological order on a batch.
///
/// Nodes are added in topological order (a node's inputs must already exist). Any node's output can be
/// requested (MATLAB's `activations`); an activation's buffer is reused by later nodes once its last reader ran
/// (``ActivationPlan``).
public struct Network: Sendable {
    /// One named layer and the names of the nodes it reads.
    public struct Node: Sendable {
        public let name: String
        public var layer: any Layer
        public var inputs: [String]
    }

    /// Name of the input node.
    public let inputName: String
    /// Shape of one example, batch excluded.
    public let inputShape: [Int]
    /// Layers in topological order.
    public internal(set) var nodes: [Node] = []
    /// Shapes of every node's output, batch excluded, the input included.
    public internal(set) var shapes: [String: [Int]]
    /// The node whose output ``run(_:)`` returns; the last node added unless set.
    public var outputName: String

    /// A network whose examples have `inputShape` (batch excluded).
    public init(inputShape: [Int], inputName: String = "input") {
        self.inputName = inputName
        self.inputShape = inputShape
        shapes = [inputName: inputShape]
        outputName = inputName
    }

    /// Names of all nodes that can be requested, input first.
    public var nodeNames: [String] { [inputName] + nodes.map(\.name) }

    /// Appends `layer` as `name`, reading `inputs` (default: the previously added node); a ``ShapePlanned`` layer
    /// (a convolution) is planned for its input shapes here, once.
    @discardableResult
    public mutating func add(_ name: String, _ layer: any Layer, inputs: [String]? = nil) throws -> String {
        guard shapes[name] == nil else { throw NetworkError.invalidGraph("duplicate node name '\(name)'") }
        let sources = inputs ?? [nodes.last?.name ?? inputName]
        let inputShapes = try sources.map { source -> [Int] in
            guard let shape = shapes[source] else { throw NetworkError.invalidGraph("'\(name)' reads unknown node '\(source)'") }
            return shape
        }
        do {
            shapes[name] = try layer.outputShape(for: inputShapes)
        } catch let error as NetworkError {
            throw NetworkError.invalidGraph("node '\(name)': \(error.description)")
        }
        nodes.append(Node(name: name, layer: (layer as? any ShapePlanned)?.planned(for: inputShapes) ?? layer, inputs: sources))
        outputName = name
        return name
    }

    /// Prints each node's run time to stderr when `$AUDIONET_PROFILE` is set.
    static let profiling = ProcessInfo.processInfo.environment["AUDIONET_PROFILE"] != nil

    /// The profile's line for `node`, which wrote `output` from `started` (uptime nanoseconds) to now.
    static func report(_ node: Node, output: Tensor, started: UInt64) {
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        FileHandle.standardError.write(Data("profile \(node.name) \(node.layer.typeName) \(output.shape) \(String(format: "%.3f", milliseconds)) ms\n".utf8))
    }

    /// Runs a batch and returns the output of ``outputName``.
    public func run(_ input: Tensor) throws -> Tensor { try run(input, outputs: [outputName])[outputName]! }

    /// Runs a batch `[N] + inputShape` and returns the outputs of the requested nodes. Each activation is written
    /// to the buffer its ``ActivationPlan`` gives it; pass the same `buffers` to the next run (on the same thread)
    /// and it reuses them instead of allocating. A batch larger than ``examplesPerPass(threads:)`` runs in passes of
    /// that many examples, one after another, so that each pass's activations stay in cache; a batch with a one-core
    /// pass for every core runs such passes side by side, a core each (EfficientNet-B0 at batch 16 on two cores: 294 →
    /// 380 images/s, calibrated int8 MobileNetV2 964 → 1138, ResNet-50 float32 64 → 68). A batch in passes runs the
    /// network's tail (its head, and the layers before it whose weights outweigh their activations) after the passes,
    /// on the whole batch (``tail(of:batch:bodyPasses:)``).
    /// - Throws: ``NetworkError/shapeMismatch(layer:expected:got:)`` naming the expected input shape, or
    ///   ``NetworkError/unknownLayer(_:valid:)`` listing the valid names.
    public func run(_ input: Tensor, outputs requested: [String], reusing buffers: ActivationBuffers = ActivationBuffers()) throws -> [String: Tensor] {
        guard input.shape.count == inputShape.count + 1, Array(input.shape.dropFirst()) == inputShape else {
            throw NetworkError.shapeMismatch(layer: "the network", expected: "[N, \(inputShape.map(String.init).joined(separator: ", "))]",
                                             got: input.shape)
        }
        for name in requested where shapes[name] == nil {
            throw NetworkError.unknownLayer(name, valid: nodeNames)
        }
        _ = AllocatorPolicy.configure
        let batch = input.shape[0], threads = Parallel.threadCount
        // One example is one pass (sizing passes took 2 % of a MobileNetV2 image's time).
        guard batch > 1 else { return runPass(input, outputs: requested, reusing: buffers) }
        let perCore = buffers.examplesPerCore(of: self), perPass = perCore * threads  // examplesPerPass(threads: threads)
        guard batch > perPass || (threads > 1 && batch >= threads * perCore) else { return runPass(input, outputs: requested, reusing: buffers) }
        // The body's passes over `count` examples: side by side when there is a pass for every core — as many on each
        // core, of at most `perCore` examples (16 examples of at most 7 on two cores: four passes of 4, not 7, 7 and 2) —
        // else one after another.
        func passes(over count: Int) -> (count: Int, sideBySide: Bool) {
            let sideBySide = threads > 1 && count >= threads * perCore
            return (sideBySide ? threads * ((count + threads * perCore - 1) / (threads * perCore)) : (count + perPass - 1) / perPass, sideBySide)
        }
        func body(_ part: Tensor, outputs: [String]) -> [String: Tensor] {
            let count = part.shape[0], (passCount, sideBySide) = passes(over: count)
            if sideBySide {
                return runPassesSideBySide(part, perPass: (count + passCount - 1) / passCount, threads: threads, outputs: outputs, reusing: buffers)
            }
            let results = Swift.stride(from: 0, to: count, by: perPass).map { first in
                runPass(part.rows(Array(first..<min(count, first + perPass))), outputs: outputs, reusing: buffers)
            }
            return passCount == 1 ? results[0] : joined(results, batch: count, outputs: outputs)
        }
        let tail = self.tail(of: requested, batch: batch, bodyPasses: passes(over: batch).count)
        guard !tail.nodes.isEmpty else { return body(input, outputs: requested) }
        // A batch larger than a tail pass runs tail pass by tail pass, each after the body's passes over its examples, so
        // that the body's outputs the tail reads are held for one tail pass at a time.
        let parts = Swift.stride(from: 0, to: batch, by: tail.examplesPerPass).map { first in
            let part = tail.examplesPerPass >= batch ? input : input.rows(Array(first..<min(batch, first + tail.examplesPerPass)))
            return runTail(tail.nodes, on: body(part, outputs: tail.bodyOutputs), input: part, outputs: requested)
        }
        return parts.count == 1 ? parts[0] : joined(parts, batch: batch, outputs: requested)
    }

    /// ``run(_:outputs:reusing:)`` of a batch with a pass for every core at least: passes of `perPass` examples side
    /// by side, each core running whole passes on its own (as ``BatchRunner`` runs batches), so that no layer waits
    /// for the cores to meet and each core's activations stay in its own cache.
    private func runPassesSideBySide(_ input: Tensor, perPass: Int, threads: Int, outputs requested: [String],
                                     reusing buffers: ActivationBuffers) -> [String: Tensor] {
        let batch = input.shape[0]
        let ranges = Swift.stride(from: 0, to: batch, by: perPass).map { $0..<min(batch, $0 + perPass) }
        let workers = min(threads, ranges.count), own = buffers.forWorkers(workers)
        let results = UnsafeMutablePointer<[String: Tensor]>.allocate(capacity: ranges.count)
        results.initialize(repeating: [:], count: ranges.count)
        defer { results.deinitialize(count: ranges.count); results.deallocate() }
        let slots = SharedPointer(results)
        Parallel.forEach(workers) { worker in
            for index in Swift.stride(from: worker, to: ranges.count, by: workers) {
                slots.base[index] = runPass(input.rows(Array(ranges[index])), outputs: requested, reusing: own[worker].buffers)
            }
        }
        return joined(Array(UnsafeBufferPointer(start: results, count: ranges.count)), batch: batch, outputs: requested)
    }

    /// The requested outputs of consecutive passes over a batch of `batch` examples, joined along the batch.
    private func joined(_ passes: [[String: Tensor]], batch: Int, outputs requested: [String]) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: Set(requested).map { name in
            (name, Tensor(shape: [batch] + shapes[name]!) { output in
                var target = output.baseAddress!
                for pass in passes {
                    pass[name]!.scalars.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
                    target += pass[name]!.count
                }
            })
        })
    }

    /// Bytes of the largest activation of a pass, per core: at most ``passBytesPerCore``, at least
    /// ``passBytesPerCoreAtLeast`` (about a core's L2 cache). Measured at batch 16 (passes run from the batch as here,
    /// and as separate calls): ResNet-50 (3.2 MB per image) ran fastest in passes of 2 images a core in float32 and int8
    /// (1 a core lost 10 % in float32), MobileNetV2 (1.6 MB) 4–8 a core, 10–18 % faster than whole batches; YAMNet's 8
    /// patches (0.8 MB each) stay one pass.
    static let passBytesPerCore = 8 << 20
    static let passBytesPerCoreAtLeast = 1 << 20

    /// Examples per pass through the layers on `threads` cores: as many as keep the largest activation of a pass within
    /// a quarter of the weights' bytes a core, bounded by ``passBytesPerCore`` and ``passBytesPerCoreAtLeast``; at
    /// least one. Each pass reads every weight once, and activations that outgrow the cache are written and read back
    /// by every layer: a network with few weights for its activations runs about an example a core. On a Zen 5 core at
    /// batch 16: calibrated int8 MobileNetV2 (3.5 MB of weights, 1.6 MB activations) 389 images/s in passes of 4, 488
    /// in passes of 1; float32 EfficientNet-B0 (21 MB of weights) 139 in passes of 1, 160 of 4; ResNet-50 within 3 %
    /// from 1 to 16; YAMNet (int8 or float32) the same from 1 to 8 MB a core. Without the lower bound, CREPE-tiny
    /// (1.9 MB of weights) ran 6 frames a pass on two cores and lost 10 % to their synchronisation. An activation passed as
    /// uint8 codes (``exchangingCodes()``) counts a byte a value: calibrated int8 ResNet-50 (0.8 MB of codes at most) runs
    /// 7 images a core, 97.7 → 101.5 images/s at batch 16 on one core, 193 → 202 on two (in four side-by-side passes of 4).
    public func examplesPerPass(threads: Int) -> Int {
        let bytes = valueBytes
        let largest = max(1, shapes.map { name, shape in shape.reduce(1, *) * (bytes[name] ?? MemoryLayout<Float>.size) }.max() ?? 1)
        let weights = nodes.reduce(0) { $0 + $1.layer.parameterBytes }
        let budget = min(Self.passBytesPerCore, max(Self.passBytesPerCoreAtLeast, weights / 4))
        return max(1, budget / largest) * max(1, threads)
    }

    /// One pass of ``run(_:outputs:reusing:)`` over the whole of `input`.
    func runPass(_ input: Tensor, outputs requested: [String], reusing buffers: ActivationBuffers) -> [String: Tensor] {
        let (plan, program) = buffers.plan(for: self, batch: input.shape[0], outputs: Set(requested))
        var values = [Tensor?](repeating: nil, count: plan.buffers.count + 1)
        values[0] = input
        for (index, step) in program.steps.enumerated() {
            let node = nodes[step.node], buffer = plan.buffers[index]
            let started = Network.profiling ? DispatchTime.now().uptimeNanoseconds : 0
            var output = Tensor(shape: step.shape, scalars: buffers.take(slot: buffer.slot, count: buffer.size))
            let inputs = step.inputs.map { values[$0]! }
            precondition(step.readsCodes || inputs.allSatisfy { $0.codes == nil }, "\(node.name) cannot read uint8 codes")
            node.layer.forward(inputs, into: &output)
            if Network.profiling { Self.report(node, output: output, started: started) }
            values[index + 1] = output
            // The activations this node read last go back to their slots for the nodes after it.
            for released in step.released {
                if let value = values[released + 1] { buffers.giveBack(value.scalars, of: plan.buffers[released]) }
                values[released + 1] = nil
            }
        }
        return Dictionary(uniqueKeysWithValues: program.outputs.map { ($0.name, values[$0.position]!.dequantized()) })
    }

    /// Nodes that must run to produce `targets`.
    func neededNodes(for targets: Set<String>) -> Set<String> {
        let byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        var needed = Set<String>(), stack = Array(targets)
        while let name = stack.popLast() {
            guard let node = byName[name], needed.insert(name).inserted else { continue }
            stack.append(contentsOf: node.inputs)
        }
        return needed
    }

    /// The part of the network that computes node `name`, which becomes its output.
    /// - Throws: ``NetworkError/unknownLayer(_:valid:)`` listing the valid names.
    public func truncated(at name: String) throws -> Network {
        guard shapes[name] != nil else { throw NetworkError.unknownLayer(name, valid: nodeNames) }
        let needed = neededNodes(for: [name])
        var result = Network(inputShape: inputShape, inputName: inputName)
        for node in nodes where needed.contains(node.name) { try result.add(node.name, node.layer, inputs: node.inputs) }
        return result
    }

    /// The same function with each BatchNorm folded into the convolution or dense layer before it, and each
    /// ReLU/ReLU6/Sigmoid… fused into the layer before it, where that layer feeds nothing else.
    /// The merged node takes the later node's name, so requesting the earlier name then reports it unknown; the nodes
    /// named in `kept` (and the output) are never merged away.
    public func optimized(keeping kept: Set<String> = []) -> Network {
        mergingPairs({ first, second, _ in Network.merge(first, then: second) }, keeping: kept)
    }

    /// The network with each pair of nodes that `merge` makes one layer replaced by that layer, where the first feeds
    /// only the second and is neither the output nor `kept`; the merged node has the second's name and the first's
    /// inputs. Pairs are merged in order, again until none is left, so a layer can take over several nodes after it.
    /// `merge` is given the pair and the shape of one example between them (the first's output).
    func mergingPairs(_ merge: (_ first: any Layer, _ second: any Layer, _ between: [Int]) -> (any Layer)?,
                      keeping kept: Set<String> = []) -> Network {
        var result = self
        var changed = true
        while changed {
            changed = false
            let consumers = Dictionary(grouping: result.nodes.flatMap { node in node.inputs.map { ($0, node.name) } }, by: \.0)
            for (index, node) in result.nodes.enumerated() where node.inputs.count == 1 && index > 0 {
                guard let producerIndex = result.nodes.firstIndex(where: { $0.name == node.inputs[0] }),
                      consumers[node.inputs[0]]?.count == 1, result.outputName != node.inputs[0], !kept.contains(node.inputs[0]) else {
                    continue
                }
                if let merged = merge(result.nodes[producerIndex].layer, node.layer, result.shapes[node.inputs[0]] ?? []) {
                    result.nodes[producerIndex] = Node(name: node.name, layer: merged, inputs: result.nodes[producerIndex].inputs)
                    result.nodes.remove(at: index)
                    result.shapes[node.inputs[0]] = nil
                    changed = true
                    break
                }
            }
        }
        return result
    }
}

/// One row of a layer table (MATLAB's analyzeNetwork).
public struct LayerSummary: Sendable, Equatable {
    public let name: String
    public let type: String
    public let outputShape: [Int]
    public let parameters: Int
    public let multiplyAdds: Int
}

extension Network {
    /// A row per node: name, type, output shape, parameters and multiply-adds per example.
    public var summary: [LayerSummary] {
        nodes.map { node in
            LayerSummary(name: node.name, type: node.layer.typeName, outputShape: shapes[node.name] ?? [],
                         parameters: node.layer.parameterCount,
                         multiplyAdds: node.layer.multiplyAdds(for: node.inputs.map { shapes[$0] ?? [] }))
        }
    }
}
