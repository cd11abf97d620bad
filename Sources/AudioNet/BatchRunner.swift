import Foundation
import NetCore

/// Runs a network over many examples in fixed-size batches and concatenates the requested outputs.
///
/// With at least as many batches as cores, whole batches run side by side, one per core, each on a single
/// thread: no per-layer synchronization, and each core's activations stay in its own cache. With fewer
/// batches (a short clip), or when `batchesSideBySide` is off, batches run one after another and each
/// layer splits across the cores instead. Every task (classify, pitch, embed, run) batches through it.
public struct BatchRunner: Sendable {
    public let network: Network
    public let batchSize: Int
    /// Off for networks whose per-batch activations are large (OpenL3: about 300 MB for 8 windows; CREPE full;
    /// any network `audionet run` is given), where a batch per core would multiply the peak memory.
    public var batchesSideBySide: Bool

    public init(network: Network, batchSize: Int, batchesSideBySide: Bool = true) {
        precondition(batchSize > 0, "batch size must be positive")
        self.network = network
        self.batchSize = batchSize
        self.batchesSideBySide = batchesSideBySide
    }

    /// Outputs `outputs` for `count` examples; `makeBatch(first, size)` builds the input of examples
    /// `first ..< first + size` (so that inputs can be made batch by batch, never all at once). `progress`
    /// receives the fraction of examples done after each batch.
    public func run(count: Int, outputs: [String], progress: (@Sendable (Double) -> Void)? = nil,
                    makeBatch: @Sendable (_ first: Int, _ size: Int) -> Tensor) throws -> [String: Tensor] {
        let shapes = try outputShapes(outputs)
        let sizes = shapes.map { $0.reduce(1, *) }
        var failure: Error?
        // Batches write their rows straight into the result arrays: no second copy of a long file's outputs.
        let arrays = Self.uninitializedArrays(counts: sizes.map { count * $0 }) { targets in
            do {
                try forEachBatch(count: count, outputs: outputs, progress: progress, makeBatch: makeBatch) { first, results in
                    for (index, name) in outputs.enumerated() {
                        results[name]!.scalars.withUnsafeBufferPointer { source in
                            (targets[index].base + first * sizes[index]).initialize(from: source.baseAddress!, count: source.count)
                        }
                    }
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        var result: [String: Tensor] = [:]
        for (index, name) in outputs.enumerated() {
            result[name] = Tensor(shape: [count] + shapes[index], scalars: arrays[index])
        }
        return result
    }

    /// Runs `count` examples in batches and hands each batch's outputs to `body(first, outputs)` as it finishes,
    /// keeping none of them: what a task makes of each example (a pitch from 360 activations) is all it holds of a
    /// long file. With batches side by side, `body` is called from several workers at once, each with its own batch.
    public func forEachBatch(count: Int, outputs: [String], progress: (@Sendable (Double) -> Void)? = nil,
                             makeBatch: @Sendable (_ first: Int, _ size: Int) -> Tensor,
                             _ body: @Sendable (_ first: Int, _ outputs: [String: Tensor]) -> Void) throws {
        _ = try outputShapes(outputs)
        let network = self.network, batchSize = self.batchSize
        let batches = (count + batchSize - 1) / batchSize
        let workers = batchesSideBySide ? min(Parallel.threadCount, batches) : 1
        let failure = FirstError(), done = DoneCounter()
        // Each worker keeps its activation buffers from batch to batch.
        @Sendable func runBatch(_ batch: Int, reusing buffers: ActivationBuffers) {
            let first = batch * batchSize, size = min(batchSize, count - first)
            do {
                body(first, try network.run(makeBatch(first, size), outputs: outputs, reusing: buffers))
            } catch {
                failure.record(error)
            }
            if let progress { progress(Double(done.add(size)) / Double(count)) }
        }
        if workers > 1 {
            Parallel.forEach(workers) { worker in
                let buffers = ActivationBuffers()
                var batch = worker
                while batch < batches && !failure.happened {
                    runBatch(batch, reusing: buffers)
                    batch += workers
                }
            }
        } else {
            let buffers = ActivationBuffers()
            for batch in 0..<batches where !failure.happened { runBatch(batch, reusing: buffers) }
        }
        if let error = failure.error { throw error }
    }

    /// The shape of one example's output at each of `outputs`, or an error naming a node the network lacks.
    private func outputShapes(_ outputs: [String]) throws -> [[Int]] {
        try outputs.map { name -> [Int] in
            guard let shape = network.shapes[name] else { throw NetworkError.unknownLayer(name, valid: network.nodeNames) }
            return shape
        }
    }

    /// Arrays of `counts` elements that `fill` initializes through the pointers it is given (all of them, unless it
    /// reports a failure the caller throws), each allocated once.
    static func uninitializedArrays(counts: [Int], first: Int = 0, pointers: [SharedPointer<Float>] = [],
                                    fill: ([SharedPointer<Float>]) -> Void) -> [[Float]] {
        guard first < counts.count else {
            fill(pointers)
            return []
        }
        var rest: [[Float]] = []
        let array = [Float](unsafeUninitializedCapacity: max(1, counts[first])) { buffer, initialized in
            rest = uninitializedArrays(counts: counts, first: first + 1, pointers: pointers + [SharedPointer(buffer.baseAddress!)], fill: fill)
            initialized = counts[first]
        }
        return [array] + rest
    }

    /// Outputs `outputs` for every example (row) of `examples`, batch first.
    public func run(examples: Tensor, outputs: [String]) throws -> [String: Tensor] {
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

/// Examples finished so far, across workers.
private final class DoneCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// Adds `examples` and returns the new total.
    func add(_ examples: Int) -> Int { lock.withLock { count += examples; return count } }
}
