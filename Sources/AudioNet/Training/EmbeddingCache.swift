import Foundation
import Platform
import WeightFiles

/// Clip embeddings kept on disk by file content and backbone, so that training again with other head options (or
/// evaluating on files already seen) does not run the network again: `DIRECTORY/<backbone>-<weights SHA-256
/// prefix>/<file SHA-256>.f32`, the embedding as little-endian float32. A cached file of the wrong size is ignored
/// and written again; a file that cannot be written leaves the cache as it was.
public struct EmbeddingCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// `$XDG_CACHE_HOME/audionet/embeddings`, else `$HOME/.cache/audionet/embeddings`; nil without either.
    public static func user(environment: [String: String] = ProcessInfo.processInfo.environment) -> EmbeddingCache? {
        WeightStore.userCache(environment: environment).map { EmbeddingCache(directory: ($0 as NSString).appendingPathComponent("embeddings")) }
    }

    /// The cache file of `file`'s clip embedding by `backbone` with weights `backboneSHA256`.
    func location(of file: String, backbone: String, backboneSHA256: String?) throws -> String {
        let folder = backbone + (backboneSHA256.map { "-" + $0.prefix(16) } ?? "")
        return [directory, folder, try WeightFetcher.sha256(path: file) + ".f32"].reduce("") { ($0 as NSString).appendingPathComponent($1) }
    }

    /// The cached embedding of `width` floats at `location`, if there is one of that size (a regular file: anything
    /// else planted there, a FIFO or a huge file, is passed over without blocking or reading it).
    func read(_ location: String, width: Int) -> [Float]? {
        guard let bytes = try? RegularFile.read(location, limit: width * 4), bytes.count == width * 4 else { return nil }
        return bytes.withUnsafeBytes { raw in (0..<width).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
    }

    /// Stores `embedding` at `location`; a failure to write is not an error (the cache is an optimisation), and
    /// anything but a regular file in the entry's place (a FIFO would block the writer) is left alone.
    func write(_ embedding: [Float], to location: String) {
        if let type = (try? FileManager.default.attributesOfItem(atPath: location))?[.type] as? FileAttributeType, type != .typeRegular { return }
        let bytes = embedding.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        try? FileManager.default.createDirectory(atPath: (location as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? OutputFile.write(bytes, to: location)
    }
}
