import Foundation
import NetCore

/// Runs a network over many examples in fixed-size batches and concatenates the requested outputs.
///
/// With at least as many batches as cores, whole batches run side by side, one per core, each on a single
/// thread: no per-layer synchronization, and each core's activations stay in its own cache. With fewer
/// batches (a short clip), or when `batchesSideBySide` is off, batches run one after another and each
/// layer splits across the cores instead.
struct BatchRunner {
    let network: Network
    let batchSize: Int
    /// Off for networks whose per-batch activations are large (OpenL3: about 300 MB for 8 windows), where
    /// a batch per core would double the peak memory for a few percent of speed.
    var batchesSideBySide = true

    /// Outputs `outputs` for `count` examples; `makeBatch(first, size)` builds the input of examples
    /// `first ..< first + size`.
    func run(count: Int, outputs: [String], makeBatch: @Sendable (_ first: Int, _ size: Int) -> Tensor) throws -> [String: Tensor] {
        let network = self.network, batchSize = self.batchSize
        let shapes = try outputs.map { name -> [Int] in
            guard let shape = network.shapes[name] else { throw NetworkError.unknownLayer(name, valid: network.nodeNames) }
            return shape
        }
        let sizes = shapes.map { $0.reduce(1, *) }
        let buffers = sizes.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count * $0)) }
        defer { for buffer in buffers { buffer.deallocate() } }
        let targets = buffers.map { SharedPointer($0.baseAddress!) }
        let batches = (count + batchSize - 1) / batchSize
        let workers = batchesSideBySide ? min(Parallel.threadCount, batches) : 1
        let failure = FirstError()
        // Each batch writes its own rows of every output buffer.
        @Sendable func runBatch(_ batch: Int) {
            let first = batch * batchSize, size = min(batchSize, count - first)
            do {
                let results = try network.run(makeBatch(first, size), outputs: outputs)
                for (index, name) in outputs.enumerated() {
                    results[name]!.scalars.withUnsafeBufferPointer { source in
                        (targets[index].base + first * sizes[index]).initialize(from: source.baseAddress!, count: size * sizes[index])
                    }
                }
            } catch {
                failure.record(error)
            }
        }
        if workers > 1 {
            Parallel.forEach(workers) { worker in
                var batch = worker
                while batch < batches && !failure.happened {
                    runBatch(batch)
                    batch += workers
                }
            }
        } else {
            for batch in 0..<batches where !failure.happened { runBatch(batch) }
        }
        if let error = failure.error { throw error }
        var result: [String: Tensor] = [:]
        for (index, name) in outputs.enumerated() {
            result[name] = Tensor(shape: [count] + shapes[index], scalars: Array(buffers[index]))
        }
        return result
    }

    /// Outputs `outputs` for every example (row) of `examples`, batch first.
    func run(examples: Tensor, outputs: [String]) throws -> [String: Tensor] {
        let count = examples.shape.first ?? 0
        let shape = Array(examples.shape.dropFirst()), size = shape.reduce(1, *)
        return try run(count: count, outputs: outputs) { first, batch in
            Tensor(shape: [batch] + shape, scalars: Array(examples.scalars[first * size..<(first + batch) * size]))
        }
    }
}

/// The first error thrown by any of several concurrent workers.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    var error: Error? { lock.withLock { stored } }
    var happened: Bool { error != nil }

    func record(_ error: Error) { lock.withLock { if stored == nil { stored = error } } }
}
