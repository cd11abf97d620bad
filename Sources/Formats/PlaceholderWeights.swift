/// The zeros that stand for the weights of a definition read alone (a `.cfg` or `.prototxt` without its weights file,
/// for layer tables and architectures), counted so that a crafted definition cannot make them exhaust memory.
struct PlaceholderWeights {
    /// At most 150 M in all: VGG-19, the largest network of the catalog, has 143.7 M. A planned convolution keeps its
    /// zeros and their packed panels (8 bytes a weight), so a definition alone takes at most 1.2 GB.
    static let limit = 150_000_000
    private(set) var count = 0

    /// Counts `added` more, for `what` of a `format` definition; past the limit, an error naming it.
    mutating func add(_ added: Int, format: String, for what: String) throws {
        count += added
        guard count <= Self.limit else {
            throw ModelFileError.unsupported(format: format, reason: "the definition needs more than \(Self.limit / 1_000_000) M placeholder weights without a weights file (at \(what))")
        }
    }
}
