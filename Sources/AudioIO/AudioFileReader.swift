import CSndFile
import Foundation
import Platform

/// Mono Float32 audio at a known sample rate.
public struct MonoAudio: Sendable {
    /// Samples in [-1, 1] for integer formats; float files keep their values.
    public var samples: [Float]
    /// Samples per second.
    public var sampleRate: Int

    public init(samples: [Float], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// Duration in seconds.
    public var duration: Double { Double(samples.count) / Double(sampleRate) }

    /// The lowest sample rate read: 1 kHz.
    public static let minimumSampleRate = 1000
}

/// Decodes any file libsndfile reads (WAV PCM 16/24/32-bit and float, FLAC, OGG/Vorbis, AIFF…) to mono Float32.
///
/// The file is read block by block: channels are mixed to mono by their mean and, when a target rate is
/// given, the stream is resampled chunk by chunk on all cores (``ChunkedResampler``), so memory holds the
/// decoded output and a few chunks only.
public enum AudioFileReader {
    /// Frames decoded per block.
    static let blockFrames = 65_536

    /// Reads `path`, mixes it to mono (or takes its channel `channel`, counted from 0) and resamples it to
    /// `sampleRate` (the file's own rate when nil).
    ///
    /// - Throws: ``AudioIOError`` for a missing, unreadable, empty, truncated file, a channel it does not have, or a
    ///   NaN, infinite or absurd (beyond ±1000 full scale) sample.
    public static func readMono(path: String, sampleRate targetRate: Int? = nil, quality: Resampler.Quality = .kaiserBest,
                                channel: Int? = nil) throws -> MonoAudio {
        let stream = try AudioFileStream(opening: path, sampleRate: targetRate, quality: quality, channel: channel)
        var output: [Float] = []
        // Slack for a model's padding, so padding in place does not reallocate a long signal. The header's frame
        // count is only a claim (a crafted one overflowed here): at most 64 M samples are reserved ahead.
        output.reserveCapacity(min(stream.announcedSampleCount, 1 << 26) + 32_768)
        while try stream.read(appendingTo: &output) {}
        return MonoAudio(samples: output, sampleRate: stream.sampleRate)
    }

    /// The number of channels `path` holds (from its header).
    public static func channelCount(path: String) throws -> Int {
        try checkRegular(path)
        return try QuietStandardError.during {
            let (file, info) = try open(path)
            sf_close(file)
            return Int(info.channels)
        }
    }

    static func checkRegular(_ path: String) throws {
        do {
            try RegularFile.check(path)
        } catch .missing {
            throw AudioIOError.fileNotFound(path: path)
        } catch {
            throw AudioIOError.unreadable(path: path, reason: error.description)
        }
    }

    /// Opens `path` with libsndfile and checks its header: channels, a rate of at least 1 kHz.
    static func open(_ path: String) throws -> (OpaquePointer, SF_INFO) {
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            // For a regular file (checked above) libsndfile's "File does not exist or is not a regular file"
            // means that no decoder took it.
            let reason = String(cString: sf_strerror(nil))
            throw AudioIOError.unreadable(path: path, reason: reason.hasPrefix("File does not exist") ? "format not recognised" : reason)
        }
        guard info.channels > 0, info.samplerate > 0 else {
            sf_close(file)
            throw AudioIOError.unreadable(path: path, reason: "invalid channel count or sample rate in header")
        }
        // Below 1 kHz nothing these networks hear is left, and resampling to 16 kHz would turn a few kilobytes into
        // hundreds of megabytes (a 4 KB file at 1 Hz became 128 MB).
        guard info.samplerate >= MonoAudio.minimumSampleRate else {
            sf_close(file)
            throw AudioIOError.unreadable(path: path, reason: "its sample rate is \(info.samplerate) Hz; audio must be sampled at \(MonoAudio.minimumSampleRate) Hz or more")
        }
        return (file, info)
    }

    /// The announced and present data sizes when libsndfile's header log reports a data chunk longer than
    /// the file (`data : 64000 (should be 29956)`); libsndfile itself silently reads what is there.
    /// Streamed WAVs that announce 0 or 0xFFFFFFFF bytes are not truncated.
    static func truncation(of file: OpaquePointer) -> (Int, Int)? {
        var log = [CChar](repeating: 0, count: 8192)
        _ = sf_command(file, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") || line.hasPrefix("SSND") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard line.contains("should be"), numbers.count >= 2 else { continue }
            let announced = numbers[0], present = numbers[1]
            if announced > present && announced != 0xFFFF_FFFF { return (announced, present) }
        }
        return nil
    }

    /// Largest sample magnitude accepted: full scale is 1; anything past a thousand times that is a broken file
    /// (a float WAV of 1e30 would otherwise run the networks into infinities and all-zero scores).
    static let largestSample: Float = 1000

    /// Throws ``AudioIOError/sampleOutOfRange(path:frame:value:)`` for the first of `frames` frames of `channels`
    /// interleaved samples (from frame `firstFrame` of the source) holding a NaN, infinite or absurd sample.
    static func checkRange(_ interleaved: [Float], channels: Int, frames: Int, path: String, firstFrame: Int) throws {
        // Counted without a branch per sample (the loop vectorizes), then found: reading a 10-minute file took 4 % of
        // YAMNet's time with `firstIndex(where:)`.
        let count = frames * channels
        let outside = interleaved.withUnsafeBufferPointer { samples in
            (0..<count).reduce(0) { $0 &+ (abs(samples[$1]) <= largestSample ? 0 : 1) }  // NaN too
        }
        guard outside > 0, let index = interleaved[..<count].firstIndex(where: { !(abs($0) <= largestSample) }) else { return }
        throw AudioIOError.sampleOutOfRange(path: path, frame: firstFrame + index / channels, value: interleaved[index])
    }

    /// Averages interleaved channels into `mono` (or takes channel `only`) and rejects non-finite and absurd samples
    /// in every channel.
    static func mixToMono(_ interleaved: [Float], channels: Int, frames: Int, into mono: inout [Float],
                                  path: String, firstFrame: Int, only: Int?) throws {
        try checkRange(interleaved, channels: channels, frames: frames, path: path, firstFrame: firstFrame)
        let scale = 1 / Float(channels)
        interleaved.withUnsafeBufferPointer { samples in
            mono.withUnsafeMutableBufferPointer { mono in
                if let only {
                    for frame in 0..<frames { mono[frame] = samples[frame * channels + only] }
                } else if channels == 1 {
                    _ = mono.update(fromContentsOf: samples[..<frames])
                } else {
                    for frame in 0..<frames {
                        var sum: Float = 0
                        for channel in 0..<channels { sum += samples[frame * channels + channel] }
                        mono[frame] = sum * scale
                    }
                }
            }
        }
    }
}
