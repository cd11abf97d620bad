import AudioIO
import DSP
import Foundation
import NetCore

/// Errors of the high-level API; each description is one line.
public enum AudioNetError: Error, CustomStringConvertible, Equatable {
    case unknownFrontEnd(String, known: [String])
    case unknownModel(String, known: [String])
    case notImplemented(String, available: [String])
    case invalidOption(String)

    public var description: String {
        switch self {
        case .invalidOption(let why):
            return why
        case .unknownModel(let name, let known):
            return "unknown model '\(name)' (the catalog has: \(known.joined(separator: ", ")))"
        case .notImplemented(let name, let available):
            return "'\(name)' is in the catalog but not built by this version yet (available: \(available.joined(separator: ", ")))"
        case .unknownFrontEnd(let name, let known):
            return "unknown front end '\(name)' (choose one of: \(known.joined(separator: ", ")))"
        }
    }
}

/// Log-mel spectrograms of audio files, as the audio networks see them.
public enum Spectrogram {
    /// Names of the available front ends.
    public static var frontEndNames: [String] { LogMelFrontEnd.named.keys.sorted() }

    /// The front end called `name` (`yamnet`, `vggish`).
    public static func frontEnd(named name: String) throws -> LogMelFrontEnd {
        guard let frontEnd = LogMelFrontEnd.named[name] else {
            throw AudioNetError.unknownFrontEnd(name, known: frontEndNames)
        }
        return frontEnd
    }

    /// Decodes `path`, mixes it to mono, resamples it to the front end's rate and returns its log-mel
    /// frames `[T, bands]` (after the front end's padding) or, with `patches`, `[N, frames, bands]`.
    public static func compute(path: String, frontEnd: LogMelFrontEnd, patches: Bool) throws -> Tensor {
        let audio = try AudioFileReader.readMono(path: path, sampleRate: frontEnd.sampleRate)
        let frames = frontEnd.logMel(audio.samples)
        return patches ? frontEnd.patches(frames) : frames
    }
}
