import CSndFile
import Foundation

/// A file's samples read a block at a time: decoded by libsndfile, mixed to mono (or one channel taken) and
/// resampled, checked as ``AudioFileReader/readMono(path:sampleRate:quality:channel:)`` checks them. Memory holds a
/// block and the resampler's chunks, whatever the file's length: a pipeline that consumes the blocks as they come
/// (``PitchEstimator``) costs the same on a 10-hour file as on a 10-minute one.
public final class AudioFileStream {
    /// The rate of the samples returned.
    public let sampleRate: Int
    /// The samples the header announces, at ``sampleRate`` (a claim until the file is read).
    public let announcedSampleCount: Int
    private let path: String
    private let file: OpaquePointer
    private let channels: Int, channel: Int?
    private let resampler: ChunkedResampler?
    private var interleaved: [Float], mono: [Float]
    private var framesRead = 0, finished = false

    /// Opens `path` to be read at `sampleRate` (the file's own when nil), mixed to mono or as its channel `channel`
    /// (counted from 0).
    ///
    /// - Throws: ``AudioIOError`` for a missing, unreadable, empty or truncated file, or a channel it does not have.
    public init(opening path: String, sampleRate targetRate: Int? = nil, quality: Resampler.Quality = .kaiserBest,
                channel: Int? = nil) throws {
        try AudioFileReader.checkRegular(path)
        let (file, info) = try QuietStandardError.during { try AudioFileReader.open(path) }
        var opened = true
        defer { if opened { sf_close(file) } }  // closed here unless the stream owns it
        channels = Int(info.channels)
        if let channel, !(0..<channels).contains(channel) {
            throw AudioIOError.unreadable(path: path, reason: "it has \(channels) channel\(channels == 1 ? "" : "s"); there is no channel \(channel + 1)")
        }
        guard info.frames > 0 else { throw AudioIOError.empty(path: path) }
        if let (announced, present) = AudioFileReader.truncation(of: file) {
            throw AudioIOError.truncated(path: path, announcedBytes: announced, presentBytes: present)
        }
        let sourceRate = Int(info.samplerate)
        sampleRate = targetRate ?? sourceRate
        resampler = sampleRate == sourceRate ? nil : try ChunkedResampler(from: sourceRate, to: sampleRate, quality: quality)
        announcedSampleCount = Int(min(Double(info.frames) * Double(sampleRate) / Double(sourceRate), Double(Int.max / 2)))
        self.path = path
        self.file = file
        self.channel = channel
        interleaved = [Float](repeating: 0, count: AudioFileReader.blockFrames * channels)
        mono = [Float](repeating: 0, count: AudioFileReader.blockFrames)
        opened = false
    }

    deinit { sf_close(file) }

    /// The next samples (possibly none while the resampler gathers a chunk), or nil once the file is read.
    ///
    /// - Throws: ``AudioIOError`` for a NaN, infinite or absurd (beyond ±1000 full scale) sample, a decoding error, or
    ///   a file with no samples after all.
    public func readBlock() throws -> [Float]? {
        guard !finished else { return nil }
        // libsndfile's MPEG decoder (libmpg123) prints notes on stderr for bytes that merely look like MP3.
        let count = QuietStandardError.during {
            interleaved.withUnsafeMutableBufferPointer { Int(sf_readf_float(file, $0.baseAddress, sf_count_t(AudioFileReader.blockFrames))) }
        }
        guard count <= 0 else {
            try AudioFileReader.mixToMono(interleaved, channels: channels, frames: count, into: &mono, path: path,
                                          firstFrame: framesRead, only: channel)
            framesRead += count
            return try resampler?.process(mono[0..<count]) ?? Array(mono[0..<count])
        }
        finished = true
        if sf_error(file) != 0 { throw AudioIOError.unreadable(path: path, reason: String(cString: sf_strerror(file))) }
        guard framesRead > 0 else { throw AudioIOError.empty(path: path) }
        return try resampler?.finish()
    }
}
