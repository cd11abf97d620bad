import CSndFile
import Foundation

/// A file's or a pipe's samples read a block at a time: decoded by libsndfile, mixed to mono (or one channel taken)
/// and resampled, checked as ``AudioFileReader/readMono(path:sampleRate:quality:channel:)`` checks them. Memory holds
/// a block and the resampler's chunks, whatever the length: a pipeline that consumes the blocks as they come costs
/// the same on a 10-hour file as on a 10-minute one.
public final class AudioFileStream {
    /// The rate of the samples returned.
    public let sampleRate: Int
    /// The samples the header announces, at ``sampleRate`` (a claim until the file is read; 0 for a pipe).
    public let announcedSampleCount: Int
    private let path: String
    private let file: OpaquePointer
    private let channels: Int, channel: Int?
    private let resampler: ChunkedResampler?
    private let blockFrames: Int
    private var interleaved: [Float], mono: [Float]
    private var framesRead = 0, finished = false
    /// A pipe's source, its samples' first byte and frame size (PCM only), and the frames its header announces.
    private let pipe: (source: PipeSource, dataStart: Int, frameBytes: Int?, announcedFrames: Int)?

    /// Opens `path` to be read at `sampleRate` (the file's own when nil), mixed to mono or as its channel `channel`
    /// (counted from 0).
    ///
    /// - Throws: ``AudioIOError`` for a missing, unreadable, empty or truncated file, or a channel it does not have.
    public convenience init(opening path: String, sampleRate targetRate: Int? = nil, quality: Resampler.Quality = .kaiserBest,
                            channel: Int? = nil) throws {
        try AudioFileReader.checkRegular(path)
        let (file, info) = try QuietStandardError.during { try AudioFileReader.open(path) }
        if let (announced, present) = AudioFileReader.truncation(of: file) {
            sf_close(file)
            throw AudioIOError.truncated(path: path, announcedBytes: announced, presentBytes: present)
        }
        guard info.frames > 0 else {
            sf_close(file)
            throw AudioIOError.empty(path: path)
        }
        try self.init(file: file, info: info, name: path, pipe: nil, sampleRate: targetRate, quality: quality, channel: channel)
    }

    /// Reads a stream from `source` (standard input) as it arrives: WAV, FLAC, OGG… as libsndfile reads them, or
    /// headerless samples as `raw` describes them. Blocks are 20 ms of the stream, so that a live input is passed on
    /// as it comes; the samples are the same as a file's.
    ///
    /// - Throws: ``AudioIOError`` for a stream that is not audio or a channel it does not have.
    public convenience init(reading source: PipeSource, raw: RawPCM? = nil, sampleRate targetRate: Int? = nil,
                            quality: Resampler.Quality = .kaiserBest, channel: Int? = nil) throws {
        var info = raw?.info ?? SF_INFO()
        var callbacks = PipeSource.callbacks
        let user = Unmanaged.passUnretained(source).toOpaque()
        guard let file = QuietStandardError.during({ sf_open_virtual(&callbacks, Int32(SFM_READ), &info, user) }) else {
            let reason = String(cString: sf_strerror(nil))
            throw AudioIOError.unreadable(path: source.name, reason: source.bytesRead == 0 ? "the stream is empty"
                                          : reason.contains("ormat") || reason.contains("not a") ? "format not recognised" : reason)
        }
        guard info.channels > 0, info.samplerate >= MonoAudio.minimumSampleRate else {
            sf_close(file)
            throw AudioIOError.unreadable(path: source.name, reason: "invalid channel count or a sample rate below \(MonoAudio.minimumSampleRate) Hz")
        }
        source.opening = false
        let pcmBytes: [Int32: Int] = [Int32(SF_FORMAT_PCM_S8): 1, Int32(SF_FORMAT_PCM_U8): 1, Int32(SF_FORMAT_PCM_16): 2,
                                      Int32(SF_FORMAT_PCM_24): 3, Int32(SF_FORMAT_PCM_32): 4, Int32(SF_FORMAT_FLOAT): 4,
                                      Int32(SF_FORMAT_DOUBLE): 8, Int32(SF_FORMAT_ULAW): 1, Int32(SF_FORMAT_ALAW): 1]
        let frameBytes = pcmBytes[info.format & Int32(SF_FORMAT_SUBMASK)].map { $0 * Int(info.channels) }
        try self.init(file: file, info: info, name: source.name,
                      pipe: (source, source.tell, frameBytes, raw == nil ? Int(info.frames) : Int.max),
                      sampleRate: targetRate, quality: quality, channel: channel)
    }

    /// Takes `file` (closed on failure) with its header `info`.
    private init(file: OpaquePointer, info: SF_INFO, name: String,
                 pipe: (source: PipeSource, dataStart: Int, frameBytes: Int?, announcedFrames: Int)?,
                 sampleRate targetRate: Int?, quality: Resampler.Quality, channel: Int?) throws {
        var opened = true
        defer { if opened { sf_close(file) } }  // closed here unless the stream owns it
        channels = Int(info.channels)
        if let channel, !(0..<channels).contains(channel) {
            throw AudioIOError.unreadable(path: name, reason: "it has \(channels) channel\(channels == 1 ? "" : "s"); there is no channel \(channel + 1)")
        }
        let sourceRate = Int(info.samplerate)
        sampleRate = targetRate ?? sourceRate
        resampler = sampleRate == sourceRate ? nil : try ChunkedResampler(from: sourceRate, to: sampleRate, quality: quality, live: pipe != nil)
        announcedSampleCount = pipe != nil ? 0 : Int(min(Double(info.frames) * Double(sampleRate) / Double(sourceRate), Double(Int.max / 2)))
        blockFrames = pipe != nil ? max(64, sourceRate / 50) : AudioFileReader.blockFrames
        self.path = name
        self.file = file
        self.channel = channel
        self.pipe = pipe
        interleaved = [Float](repeating: 0, count: blockFrames * channels)
        mono = [Float](repeating: 0, count: blockFrames)
        opened = false
    }

    deinit { sf_close(file) }

    /// The next samples (possibly none while the resampler gathers a chunk), or nil once the file is read.
    ///
    /// - Throws: ``AudioIOError`` for a NaN, infinite or absurd (beyond ±1000 full scale) sample, a decoding error, or
    ///   a file with no samples after all.
    public func readBlock() throws -> [Float]? {
        var block: [Float] = []
        return try read(appendingTo: &block) ? block : nil
    }

    /// Appends the next samples (possibly none while the resampler gathers a chunk) to `output`: false, appending
    /// nothing, once the file is read (as ``readBlock()`` returns nil). A mono file read at its own rate is appended straight from the decoder's block
    /// (through ``readBlock()`` each sample was copied twice more; YAMNet on a 10-minute WAV gained 1.4 %).
    ///
    /// - Throws: as ``readBlock()``.
    public func read(appendingTo output: inout [Float]) throws -> Bool {
        guard !finished else { return false }
        // libsndfile's MPEG decoder (libmpg123) prints notes on stderr for bytes that merely look like MP3.
        let count = QuietStandardError.during {
            interleaved.withUnsafeMutableBufferPointer { Int(sf_readf_float(file, $0.baseAddress, sf_count_t(blockFrames))) }
        }
        guard count <= 0 else {
            defer { framesRead += count }
            if channels == 1 && resampler == nil {
                try AudioFileReader.checkRange(interleaved, channels: 1, frames: count, path: path, firstFrame: framesRead)
                output.append(contentsOf: interleaved[0..<count])
                return true
            }
            try AudioFileReader.mixToMono(interleaved, channels: channels, frames: count, into: &mono, path: path,
                                          firstFrame: framesRead, only: channel)
            if let resampler { output += try resampler.process(mono[0..<count]) } else { output.append(contentsOf: mono[0..<count]) }
            return true
        }
        finished = true
        if sf_error(file) != 0 { throw AudioIOError.unreadable(path: path, reason: String(cString: sf_strerror(file))) }
        guard framesRead > 0 else { throw AudioIOError.empty(path: path) }
        if let pipe { try checkEnd(of: pipe) }
        guard let resampler else { return false }
        output += try resampler.finish()
        return true
    }

    /// The end of a pipe's audio: a PCM stream must end on a whole frame and hold the frames its header announces
    /// (unless the header is a live stream's placeholder), and no second header may follow its samples (a stream
    /// that changes format: `cat a.wav b.flac`).
    private func checkEnd(of pipe: (source: PipeSource, dataStart: Int, frameBytes: Int?, announcedFrames: Int)) throws {
        let source = pipe.source
        if let frameBytes = pipe.frameBytes, framesRead < pipe.announcedFrames, source.ended {
            let present = source.bytesRead - pipe.dataStart
            if present % frameBytes != 0 {
                throw AudioIOError.unreadable(path: path, reason: "the stream ends in the middle of a sample frame (\(present) bytes of samples, frames of \(frameBytes))")
            }
            // Live streams announce as much as their header can hold (sox: 0x7FFFF000 bytes, others 0 or 0xFFFFFFFF).
            let (announcedBytes, overflow) = pipe.announcedFrames.multipliedReportingOverflow(by: frameBytes)
            if !overflow && announcedBytes < 0x7FFF_0000 && announcedBytes != 0 {
                throw AudioIOError.truncated(path: path, announcedBytes: announcedBytes, presentBytes: present)
            }
        }
        // libsndfile reads whole blocks, past the samples: what follows them is looked for where they end.
        guard let frameBytes = pipe.frameBytes else { return }
        let next = source.bytes(at: pipe.dataStart + framesRead * frameBytes, count: 4)
        if ["RIFF", "RIFX", "RF64", "fLaC", "OggS", "FORM", "caff"].contains(where: { next == Array($0.utf8) }) {
            throw AudioIOError.unreadable(path: path, reason: "the stream changes format after \(framesRead) frames: another header (\(String(decoding: next, as: UTF8.self))) follows its audio")
        }
    }
}
