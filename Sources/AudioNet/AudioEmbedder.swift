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
        let (count, size) = (embeddings.shape[0], embeddings.shape[1])
        guard count > 0 else { return Tensor(shape: [size], scalars: [Float](repeating: 0, count: size)) }
        var result = Array(embeddings.scalars[0..<size])
        for row in 1..<count {
            for column in 0..<size {
                let value = embeddings.scalars[row * size + column]
                result[column] = pooling == .max ? Swift.max(result[column], value) : result[column] + value
            }
        }
        if pooling == .mean { result = result.map { $0 / Float(count) } }
        return Tensor(shape: [size], scalars: result)
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

    private func finish(_ result: AudioPipelineResult) -> (embeddings: Tensor, times: [Double]) {
        let output = result.outputs[node]!, count = output.shape[0]
        let embeddings = output.shape.count == 2 ? output : output.reshaped([count, output.count / max(count, 1)])  // CREPE: [N, 8, 1, C]
        return (postprocess?(embeddings) ?? embeddings, result.times)
    }
}
