import Base
import Foundation

extension Network {
    /// The end of the network that a batch run in passes runs after the body's passes, on the whole batch (or tail pass
    /// by tail pass), and the outputs the body's passes hand it.
    struct Tail {
        /// The tail's nodes that the requested outputs need, in order; empty when the whole network runs in passes.
        let nodes: [Node]
        /// The outputs the body's passes give: the requested ones before the tail, and the tail's inputs (the network's
        /// input excepted, which the tail reads as it is).
        let bodyOutputs: [String]
        /// Examples per pass through the tail (the batch, unless its activations would outgrow ``Network/tailPassBytes``).
        let examplesPerPass: Int
    }

    /// Bytes of the largest activation of a pass through the tail. A larger batch runs tail pass by tail pass, each after
    /// the body's passes over its examples: this bounds the memory the tail's activations and the body's outputs take.
    static let tailPassBytes = 64 << 20

    /// The tail that saves the most memory traffic over running the whole network in `bodyPasses` passes over `batch`
    /// examples, and at least the network's head. A pass reads every weight once, so the tail's weights are read once a
    /// tail pass instead of once a body pass, while its activations, the whole batch's, leave the cache: they count four
    /// times their bytes (written and read back, and the reads of the next layer; with twice, calibrated int8
    /// MobileNetV2's last stage, 3.5 MB of weights that stay in cache anyway, joined the tail and lost 10–20 %).
    /// ResNet-50 at batch 16 in passes of 2 (float32, one core): the 3×3 convolutions of layer4's first two blocks
    /// (9.4 MB of weights each) took 31 and 30 ms a batch in passes against 27 and 15 once on the batch; its 1×1 ones
    /// were even, and layers 1 and 2 lost 20 % on the batch. The head — the longest run of nodes at the end that read
    /// and write one vector an example — is always in the tail: YAMNet's classifier (1024 → 521, 533 KB of int8
    /// weights) took 5.5 µs a patch read again in every pass of 2 patches, as much as the depthwise layers of its last
    /// five blocks.
    func tail(of outputs: [String], batch: Int, bodyPasses: Int) -> Tail {
        let needed = neededNodes(for: Set(outputs)), bytes = valueBytes
        func exampleBytes(_ name: String) -> Int { (shapes[name]?.reduce(1, *) ?? 0) * (bytes[name] ?? MemoryLayout<Float>.size) }
        var weights = 0, written = 0, largest = 1, perPass = batch, gain = 0, inHead = true
        var best = (gain: 0, start: nodes.count, perPass: batch)
        for start in Swift.stride(from: nodes.count - 1, through: 1, by: -1) {
            let node = nodes[start]
            inHead = inHead && shapes[node.name]!.count == 1 && node.inputs.allSatisfy { $0 != inputName && shapes[$0]!.count == 1 }
            if needed.contains(node.name) {
                weights += node.layer.parameterBytes
                written += exampleBytes(node.name)
                largest = max(largest, exampleBytes(node.name), node.inputs.map(exampleBytes).max() ?? 0)
                perPass = min(batch, max(1, Self.tailPassBytes / largest))
                gain = weights * (bodyPasses - (batch + perPass - 1) / perPass) - 4 * written * batch
            }
            if inHead || gain > best.gain { best = (gain, start, perPass) }
        }
        let tail = nodes[best.start...].filter { needed.contains($0.name) }
        guard !tail.isEmpty else { return Tail(nodes: [], bodyOutputs: outputs, examplesPerPass: batch) }
        let inTail = Set(tail.map(\.name))
        let bodyOutputs = Set(outputs.filter { !inTail.contains($0) } + tail.flatMap(\.inputs).filter { !inTail.contains($0) })
            .subtracting([inputName])
        return Tail(nodes: tail, bodyOutputs: bodyOutputs.sorted(), examplesPerPass: best.perPass)
    }

    /// `outputs` from the network's `input` and the body's outputs `body` over the same examples, running the tail's
    /// nodes `tail` on them: each node's output in a new tensor, dropped after its last reader.
    func runTail(_ tail: [Node], on body: [String: Tensor], input: Tensor, outputs: [String]) -> [String: Tensor] {
        let batch = input.shape[0], kept = Set(outputs)
        var values = body, readers = [String: Int]()
        values[inputName] = input
        for node in tail { for input in node.inputs { readers[input, default: 0] += 1 } }
        for node in tail {
            let started = Network.profiling ? DispatchTime.now().uptimeNanoseconds : 0
            var output = Tensor(shape: [batch] + shapes[node.name]!) { _ in }  // the layer writes every element
            node.layer.forward(node.inputs.map { values[$0]! }, into: &output)
            if Network.profiling { Network.report(node, output: output, started: started) }
            values[node.name] = output
            for input in node.inputs {
                readers[input]! -= 1
                if readers[input] == 0 && !kept.contains(input) { values[input] = nil }
            }
        }
        return Dictionary(uniqueKeysWithValues: kept.map { ($0, values[$0]!.dequantized()) })
    }
}
