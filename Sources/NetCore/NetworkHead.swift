import Base
import Foundation

extension Network {
    /// The nodes of the network's head that `outputs` need, and the outputs its body's passes give instead: the head is
    /// the longest run of nodes at the end that read and write one vector an example (dense layers after a global
    /// pooling), reading the body's outputs. A batch run in passes runs the head once on the whole batch: YAMNet's
    /// classifier (1024 → 521, 533 KB of int8 weights, read from L3 again in every pass of 2 patches) took 5.5 µs a
    /// patch, as much as the depthwise layers of the last five blocks. The head's rows are the same whichever batch
    /// they are run in.
    func headSplit(of outputs: [String]) -> (head: [Node], bodyOutputs: [String]) {
        var start = nodes.count
        while start > 1 {
            let node = nodes[start - 1]
            guard shapes[node.name]!.count == 1, node.inputs.allSatisfy({ $0 != inputName && shapes[$0]!.count == 1 }) else { break }
            start -= 1
        }
        let needed = neededNodes(for: Set(outputs))
        let head = nodes[start...].filter { needed.contains($0.name) }
        guard !head.isEmpty else { return ([], outputs) }
        let headNames = Set(head.map(\.name))
        let bodyOutputs = Set(outputs.filter { !headNames.contains($0) } + head.flatMap(\.inputs).filter { !headNames.contains($0) })
        return (head, bodyOutputs.sorted())
    }

    /// `outputs` from the body's outputs `values` of a whole batch, running `head` once on them.
    func runHead(_ head: [Node], on values: [String: Tensor], outputs: [String]) -> [String: Tensor] {
        var values = values
        for node in head {
            let started = Network.profiling ? DispatchTime.now().uptimeNanoseconds : 0
            values[node.name] = node.layer.forward(node.inputs.map { values[$0]! }).dequantized()
            if Network.profiling { Network.report(node, output: values[node.name]!, started: started) }
        }
        return Dictionary(uniqueKeysWithValues: Set(outputs).map { ($0, values[$0]!) })
    }
}
