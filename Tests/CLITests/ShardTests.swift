import Foundation
import TestSupport
import Testing

/// `--shard I/N` and `audionet merge`: the shards of any count split a list into disjoint parts, the same on every
/// run, and their merged JSON Lines are what one process over the whole list prints.
@Suite struct ShardTests {
    let directory = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A list of `count` FSDD recordings (real speech, 0.3–0.8 s each), one path per line.
    func corpus(_ count: Int) throws -> String? {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so FSDD cannot be found")
            return nil
        }
        let fsdd = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path
        let files = (0..<count).map { "\(fsdd)/\($0 % 10)/\($0 % 10)_theo_\($0 / 10).wav" }
        try (files.joined(separator: "\n") + "\n").write(toFile: path("corpus.txt"), atomically: true, encoding: .utf8)
        return path("corpus.txt")
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func theShardsOfAnyCountSplitTheListAndMergeIntoTheSingleRun() throws {
        guard let list = try corpus(24) else { return }
        let classify = ["classify", "--files-from", list, "--format", "json", "--clip"]
        let single = try TestSupport.run(classify)
        #expect(single.status == 0 && lines(single.stdout).count == 24, "\(single.stderr)")
        for count in [1, 2, 3, 5] {
            var parts: [String] = [], seen: [String] = []
            for index in 0..<count {
                let part = try TestSupport.run(classify + ["--shard", "\(index)/\(count)"])
                #expect(part.status == 0, "\(part.stderr)")
                #expect(part.stderr.hasPrefix("shard \(index)/\(count): \(lines(part.stdout).count) of 24 audio files"), "\(part.stderr)")
                seen += lines(part.stdout)
                parts.append(path("part-\(count)-\(index).jsonl"))
                try part.stdout.write(toFile: parts.last!, atomically: true, encoding: .utf8)
            }
            // Disjoint and complete: every line of the single run once, none twice.
            #expect(seen.sorted() == lines(single.stdout).sorted(), "\(count) shards")
            if count == 3 { #expect(lines(try String(contentsOfFile: parts[1], encoding: .utf8)).count < 24) }
            let merged = try TestSupport.run(["merge", "--files-from", list] + parts.reversed())
            #expect(merged.status == 0 && merged.stdout == single.stdout, "\(count) shards: \(merged.stderr)")
        }
        // A rerun of one shard (another process) takes the same files.
        let again = try TestSupport.run(classify + ["--shard", "1/3"])
        #expect(again.stdout == (try String(contentsOfFile: path("part-3-1.jsonl"), encoding: .utf8)))
    }

    @Test func slurmArrayAndKubernetesIndicesPickTheirShard() throws {
        guard let list = try corpus(12) else { return }
        let image = ["classify", "--files-from", list, "--format", "json", "--clip", "--top", "1"]
        let explicit = try TestSupport.run(image + ["--shard", "1/3"])
        // `--array=4-6`: the second task is shard 1 of 3.
        let slurm = try TestSupport.run(image + ["--shard", "auto"],
                                        environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"])
        let kubernetes = try TestSupport.run(image + ["--shard", "auto/3"], environment: ["JOB_COMPLETION_INDEX": "1"])
        #expect(explicit.status == 0 && !explicit.stdout.isEmpty, "\(explicit.stderr)")
        #expect(slurm.status == 0 && slurm.stdout == explicit.stdout, "\(slurm.stderr)")
        #expect(kubernetes.status == 0 && kubernetes.stdout == explicit.stdout, "\(kubernetes.stderr)")
    }

    @Test(arguments: [
        (["--shard", "3/2"], [String: String](), "within 0…1"),
        (["--shard", "2/2"], [:], "within 0…1"),
        (["--shard=-1/2"], [:], "within 0…1"),
        (["--shard", "1/0"], [:], "positive whole number"),
        (["--shard", "a/b"], [:], "positive whole number"),
        (["--shard", "1"], [:], "takes I/N"),
        (["--shard", "auto"], [:], "neither SLURM_ARRAY_TASK_ID"),
        (["--shard", "auto"], ["JOB_COMPLETION_INDEX": "0"], "write --shard auto/N"),
        (["--shard", "auto/4"], ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3"], "has 3 tasks, not 4"),
        (["--shard", "auto"], ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_STEP": "4"], "step 4"),
        (["--shard", "auto"], ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "3"], "not a whole number"),
    ])
    func aBadShardIsRefusedWithOneLineAndNothingWritten(_ options: [String], _ environment: [String: String], _ message: String) throws {
        let run = try TestSupport.run(["embed", TestSupport.repositoryRoot.appendingPathComponent("Samples/speech.wav").path,
                                       "--output-dir", path("out")] + options, environment: environment)
        #expect(run.status == 1 && run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(message), "\(options): \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("out")))
    }

    @Test func mergeRefusesAMissingADuplicatedOrAForeignInput() throws {
        guard let list = try corpus(12) else { return }
        let classify = ["classify", "--files-from", list, "--format", "json", "--clip", "--top", "1"]
        for index in 0..<2 {
            let part = try TestSupport.run(classify + ["--shard", "\(index)/2"])
            try #require(part.status == 0 && !part.stdout.isEmpty, "\(part.stderr)")
            try part.stdout.write(toFile: path("\(index).jsonl"), atomically: true, encoding: .utf8)
        }
        let foreign = #"{"file":"/elsewhere/a.wav","model":"yamnet","predictions":[]}"# + "\n"
        try foreign.write(toFile: path("foreign.jsonl"), atomically: true, encoding: .utf8)
        try "not json\n".write(toFile: path("text.jsonl"), atomically: true, encoding: .utf8)
        try (try String(contentsOfFile: path("0.jsonl"), encoding: .utf8)).write(toFile: path("copy.jsonl"), atomically: true, encoding: .utf8)
        for (parts, message) in [(["0.jsonl"], "have no line in the parts"), (["0.jsonl", "1.jsonl", "copy.jsonl"], "appears twice"),
                                 (["0.jsonl", "1.jsonl", "foreign.jsonl"], "is not one of the inputs"),
                                 (["0.jsonl", "1.jsonl", "text.jsonl"], "text.jsonl line 1 is not a JSON object"),
                                 (["0.jsonl", "1.jsonl", "0.jsonl"], "is given twice")] {
            let merged = try TestSupport.run(["merge", "--files-from", list] + parts.map(path))
            #expect(merged.status == 1 && merged.stdout.isEmpty && merged.stderr.split(separator: "\n").count == 1
                    && merged.stderr.contains(message), "\(parts): \(merged.stderr)")
        }
        #expect(try TestSupport.run(["merge", "--files-from", list, path("0.jsonl"), path("1.jsonl")]).status == 0)
    }

    @Test func aFileReadChannelByChannelMergesAsOneInputInItsChannelsOrder() throws {
        let stereo = TestSupport.repositoryRoot.appendingPathComponent("Samples/tone-a440-stereo.wav").path
        let mono = TestSupport.repositoryRoot.appendingPathComponent("Samples/speech.wav").path
        let classify = ["classify", stereo, mono, "--channels", "each", "--format", "json", "--clip", "--top", "1"]
        let single = try TestSupport.run(classify)
        #expect(single.status == 0 && single.stdout.contains("(channel 2)"), "\(single.stderr)")
        for index in 0..<2 {
            try TestSupport.run(classify + ["--shard", "\(index)/2"]).stdout.write(toFile: path("\(index).jsonl"), atomically: true, encoding: .utf8)
        }
        let merged = try TestSupport.run(["merge", "--input", stereo, "--input", mono, path("1.jsonl"), path("0.jsonl")])
        #expect(merged.status == 0 && merged.stdout == single.stdout, "\(merged.stderr)")
    }

    @Test func mergeRefusesToPrintIntoOneOfItsParts() throws {
        guard let list = try corpus(4) else { return }
        let part = try TestSupport.run(["classify", "--files-from", list, "--format", "json", "--clip"]).stdout
        try part.write(toFile: path("all.jsonl"), atomically: true, encoding: .utf8)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path("all.jsonl")))
        defer { try? handle.close() }
        let merged = try TestSupport.run(["merge", "--files-from", list, path("all.jsonl")], standardOutput: handle)
        #expect(merged.status == 1 && merged.stderr.contains("standard output is one of the merge's own files"), "\(merged.stderr)")
        #expect(try String(contentsOfFile: path("all.jsonl"), encoding: .utf8) == part)
    }
}
