import CSndFile
import Foundation

/// Writes audio files with libsndfile (used by tests, sample generation and users who export audio).
public enum AudioFileWriter {
    /// File containers.
    public enum Container: Sendable {
        case wav, aiff, flac, oggVorbis

        var major: Int32 {
            switch self {
            case .wav: return Int32(SF_FORMAT_WAV)
            case .aiff: return Int32(SF_FORMAT_AIFF)
            case .flac: return Int32(SF_FORMAT_FLAC)
            case .oggVorbis: return Int32(SF_FORMAT_OGG)
            }
        }
    }

    /// Sample encodings (FLAC takes 16/24-bit PCM; OGG always encodes Vorbis).
    public enum Encoding: Sendable {
        case pcm16, pcm24, pcm32, float32

        var subtype: Int32 {
            switch self {
            case .pcm16: return Int32(SF_FORMAT_PCM_16)
            case .pcm24: return Int32(SF_FORMAT_PCM_24)
            case .pcm32: return Int32(SF_FORMAT_PCM_32)
            case .float32: return Int32(SF_FORMAT_FLOAT)
            }
        }
    }

    /// Writes interleaved `samples` with `channels` channels to `path`.
    public static func write(path: String, samples: [Float], channels: Int = 1, sampleRate: Int,
                             container: Container = .wav, encoding: Encoding = .pcm16) throws {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = container.major | (container == .oggVorbis ? Int32(SF_FORMAT_VORBIS) : encoding.subtype)
        guard sf_format_check(&info) != 0 else {
            throw AudioIOError.unwritable(path: path, reason: "libsndfile cannot write this container and encoding")
        }
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw AudioIOError.unwritable(path: path, reason: String(cString: sf_strerror(nil)))
        }
        let frames = samples.count / max(channels, 1)
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
        sf_close(file)
        guard written == frames else {
            throw AudioIOError.unwritable(path: path, reason: "wrote \(written) of \(frames) frames")
        }
    }
}
