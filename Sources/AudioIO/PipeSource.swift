import CSndFile
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pipe (standard input) as libsndfile's virtual I/O reads it: a read waits until the bytes asked for have arrived
/// or the pipe has ended, and the last mebibyte read is kept so that libsndfile can seek back into a header (it reads
/// a header's first bytes, then seeks back to parse it). A seek further back, or from the end, fails.
public final class PipeSource {
    /// What messages call the source (`standard input`).
    public let name: String
    private let descriptor: Int32
    /// Bytes from `keptStart` on, the last ones read.
    private var kept: [UInt8] = []
    private var keptStart = 0
    /// The byte libsndfile reads next.
    private var position = 0
    /// Whether the pipe has ended.
    public private(set) var ended = false
    /// The bytes read from the pipe so far.
    public var bytesRead: Int { keptStart + kept.count }
    /// Whether libsndfile is still parsing the header. It then seeks past the samples to look for chunks after
    /// them (a WAV's LIST): a read past bytes never read, which would wait for the whole stream, reads nothing.
    var opening = true
    /// Bytes kept behind the read position for seeks back.
    static let lookback = 1 << 20

    /// Reads `descriptor` (standard input by default), which it does not close.
    public init(descriptor: Int32 = STDIN_FILENO, name: String = "standard input") {
        self.descriptor = descriptor
        self.name = name
    }

    /// Reads from the pipe until `count` more bytes are kept or it ends.
    private func fill(upTo end: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytesRead < end && !ended {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, min($0.count, end - bytesRead)) }
            if got < 0 {
                if errno == EINTR { continue }
                return false
            }
            if got == 0 { ended = true } else { kept += chunk[0..<got] }
        }
        return true
    }

    /// The bytes after the read position (up to `count`, fewer only at the end of the pipe), moving past them.
    func read(into destination: UnsafeMutableRawPointer, count: Int) -> Int {
        if opening && position > bytesRead { return 0 }
        guard fill(upTo: position + count) else { return -1 }
        let available = max(0, min(count, bytesRead - position))
        kept.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + (position - keptStart), byteCount: available) }
        position += available
        let drop = position - Self.lookback - keptStart
        if drop > Self.lookback {  // dropped in large steps, not byte by byte
            kept.removeFirst(drop)
            keptStart += drop
        }
        return available
    }

    /// Moves the read position as `lseek` does; -1 for a place before the bytes kept or relative to the end.
    func seek(_ offset: Int, whence: Int32) -> Int {
        let target: Int
        switch whence {
        case SEEK_SET: target = offset
        case SEEK_CUR: target = position + offset
        default: return -1
        }
        guard target >= keptStart else { return -1 }
        position = target
        return position
    }

    /// The bytes from `offset` on (up to `count`; none before the bytes kept), read from the pipe if need be.
    public func bytes(at offset: Int, count: Int) -> [UInt8] {
        _ = fill(upTo: offset + count)
        let start = max(0, offset - keptStart)
        return start < kept.count ? Array(kept[start..<min(kept.count, start + count)]) : []
    }

    /// The read position: after a header is parsed, where the samples start.
    var tell: Int { position }

    /// libsndfile's callbacks over the source passed as their user data.
    static var callbacks: SF_VIRTUAL_IO {
        func source(_ user: UnsafeMutableRawPointer?) -> PipeSource { Unmanaged<PipeSource>.fromOpaque(user!).takeUnretainedValue() }
        return SF_VIRTUAL_IO(
            // The length is unknown: as large as a WAV header can announce, so that none is cut to it.
            get_filelen: { _ in sf_count_t(UInt32.max) },
            seek: { offset, whence, user in sf_count_t(source(user).seek(Int(offset), whence: whence)) },
            read: { destination, count, user in sf_count_t(source(user).read(into: destination!, count: Int(count))) },
            write: { _, _, _ in -1 },
            tell: { user in sf_count_t(source(user).tell) })
    }
}

/// Headerless PCM samples, interleaved, little-endian: what `--raw-rate`, `--raw-format` and `--raw-channels` say.
public struct RawPCM: Sendable, Equatable {
    public enum Encoding: String, Sendable, CaseIterable {
        /// 16-bit signed integers.
        case s16
        /// 32-bit signed integers.
        case s32
        /// 32-bit IEEE floats.
        case f32

        var bytes: Int { self == .s16 ? 2 : 4 }
        var subtype: Int32 {
            switch self {
            case .s16: Int32(SF_FORMAT_PCM_16)
            case .s32: Int32(SF_FORMAT_PCM_32)
            case .f32: Int32(SF_FORMAT_FLOAT)
            }
        }
    }

    public var sampleRate: Int
    public var encoding: Encoding
    public var channels: Int

    public init(sampleRate: Int, encoding: Encoding = .s16, channels: Int = 1) {
        self.sampleRate = sampleRate
        self.encoding = encoding
        self.channels = channels
    }

    /// libsndfile's description of the samples.
    var info: SF_INFO {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = Int32(SF_FORMAT_RAW) | encoding.subtype | Int32(SF_ENDIAN_LITTLE)
        return info
    }
}
