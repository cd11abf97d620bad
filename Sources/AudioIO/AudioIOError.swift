/// Errors raised while reading, decoding, resampling or writing audio.
///
/// Every description is a single line that names the file, so the command-line tool can print it as is.
public enum AudioIOError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case truncated(path: String, announcedBytes: Int, presentBytes: Int)
    case sampleOutOfRange(path: String, frame: Int, value: Float)
    case resampling(reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "cannot open '\(path)': no such file"
        case .unreadable(let path, let reason):
            return "cannot decode '\(path)' as audio: \(reason)"
        case .empty(let path):
            return "'\(path)' contains no audio samples"
        case .truncated(let path, let announced, let present):
            return "'\(path)' is truncated: its header announces \(announced) bytes of audio but the file holds \(present)"
        case .sampleOutOfRange(let path, let frame, let value):
            return "'\(path)' has a sample of \(value) at frame \(frame); samples must be finite and within ±1000 (full scale is 1)"
        case .resampling(let reason):
            return "resampling failed: \(reason)"
        case .unwritable(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        }
    }
}
