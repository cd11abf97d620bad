import Models
import NetCore

/// Audio embeddings from any network whose descriptor names an embedding node (YAMNet, VGGish, OpenL3), through
/// the task pipeline, optionally postprocessed (VGGish's PCA and 8-bit quantization).
public final class AudioEmbedder: Sendable {
    public let pipeline: AudioPipeline
    /// The node whose output is the embedding.
    public let node: String
    public let postprocess: (@Sendable (Tensor) -> Tensor)?

    /// How a file's embeddings become one: their mean or element-wise maximum over the examples, or every row.
    public enum Pooling: String, Sendable, CaseIterable { case mean, max, none }

    /// `embeddings` `[N, size]` pooled over the examples: `[size]` (mean, max; zeros without examples), or unchanged.
    public static func pool(_ embeddings: Tensor, _ pooling: Pooling) -> Tensor {
        guard pooling != .none else { return embeddings }
        var pooled = Pooled(pooling, size: embeddings.shape[1])
        pooled.add(embeddings)
        return pooled.result
    }

    /// Embeddings pooled row by row as they come (``Pooling/mean`` or ``Pooling/max``).
    public struct Pooled: Sendable {
        public let pooling: Pooling
        private var values: [Float]
        private var count = 0

        public init(_ pooling: Pooling, size: Int) {
            precondition(pooling != .none, "no pooling to do")
            self.pooling = pooling
            values = [Float](repeating: 0, count: size)
        }

        /// Adds rows `[n, size]`.
        public mutating func add(_ rows: Tensor) {
            let size = values.count
            for row in 0..<rows.shape[0] {
                if count == 0 {
                    values = Array(rows.scalars[row * size..<(row + 1) * size])
                } else {
                    for column in 0..<size {
                        let value = rows.scalars[row * size + column]
                        values[column] = pooling == .max ? Swift.max(values[column], value) : values[column] + value
                    }
                }
                count += 1
            }
        }

        /// The pooled embedding `[size]` (zeros without rows).
        public var result: Tensor {
            Tensor(shape: [values.count], scalars: pooling == .mean && count > 0 ? values.map { $0 / Float(count) } : values)
        }
    }

    /// Embeds with `pipeline`, then `postprocess` when given.
    public init(pipeline: AudioPipeline, postprocess: (@Sendable (Tensor) -> Tensor)? = nil) throws {
        guard let node = pipeline.input.embeddings else {
            throw AudioNetError.invalidOption("'\(pipeline.name)' gives no audio embeddings (embedding networks: \(Networks.audioEmbedding.joined(separator: ", ")))")
        }
        self.pipeline = pipeline
        self.node = node
        self.postprocess = postprocess
    }

    /// The network called `name` with its weights from `store` (or `weightsPath`) at `precision`; with
    /// `postprocess`, its postprocessing parameters from `store` (or `postprocessingPath`).
    public static func load(_ name: String, store: WeightStore = .fromEnvironment(), weightsPath: String? = nil,
                            precision: Precision = .float32, postprocess: Bool = false,
                            postprocessingPath: String? = nil) throws -> AudioEmbedder {
        guard let input = try Networks.buildable(name).audio?(name), input.embeddings != nil else {
            throw AudioNetError.invalidOption("'\(name)' gives no audio embeddings (embedding networks: \(Networks.audioEmbedding.joined(separator: ", ")))")
        }
        let postprocessing = input.postprocessing
        guard !postprocess || postprocessing != nil else { throw AudioNetError.invalidOption("\(name) has no embedding postprocessing") }
        let pipeline = try AudioPipeline.load(name, store: store, weightsPath: weightsPath, precision: precision)
        guard postprocess, let postprocessing else { return try AudioEmbedder(pipeline: pipeline) }
        return try AudioEmbedder(pipeline: pipeline,
                                 postprocess: try postprocessing.load(store.locate(postprocessing.file, explicit: postprocessingPath)))
    }

    /// Embeddings `[N, size]` of mono samples at the network's rate, one row per example, with each example's time.
    public func embed(samples: consuming [Float], hopSeconds: Double? = nil) throws -> (embeddings: Tensor, times: [Double]) {
        finish(try pipeline.run(samples: samples, outputs: [node], hopSeconds: hopSeconds))
    }

    /// Embeddings of an audio file, one row per example, with each example's time.
    public func embed(file path: String, hopSeconds: Double? = nil) throws -> (embeddings: Tensor, times: [Double]) {
        finish(try pipeline.run(file: path, outputs: [node], hopSeconds: hopSeconds))
    }

    /// Embeddings of a stream as it is decoded, handed to `body` a group of rows `[n, size]` at a time (postprocessed
    /// when the embedder postprocesses): bit for bit the rows of ``embed(samples:hopSeconds:)`` on the whole signal.
    /// Returns each example's time.
    public func embed(stream: some SampleStream, hopSeconds: Double? = nil, _ body: (Tensor) throws -> Void) throws -> [Double] {
        try pipeline.run(stream: stream, outputs: [node], hopSeconds: hopSeconds) { outputs, _ in
            try body(rows(outputs[node]!))
        }.times
    }

    private func finish(_ result: AudioPipelineResult) -> (embeddings: Tensor, times: [Double]) { (rows(result.outputs[node]!), result.times) }

    /// The node's output as rows `[N, size]`, postprocessed.
    private func rows(_ output: Tensor) -> Tensor {
        let count = output.shape[0]
        let embeddings = output.shape.count == 2 ? output : output.reshaped([count, output.count / max(count, 1)])  // CREPE: [N, 8, 1, C]
        return postprocess?(embeddings) ?? embeddings
    }
}
