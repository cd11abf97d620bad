import Foundation
import TestSupport
import Testing

/// The cluster examples: `examples/slurm/tag-corpus.sbatch` run as an array job on a real Slurm — a cluster of one
/// node that the test starts from Debian's slurmctld, slurmd and munge (`make setup` installs them) and stops — merged
/// with `audionet merge`, equals one process tagging the whole list; `examples/kubernetes/tag-corpus-job.yaml` is a
/// valid Kubernetes Job (checked against the API's schema, not run).
@Suite struct ClusterExampleTests {
    let directory = TestSupport.temporaryDirectory()
    static let examples = TestSupport.repositoryRoot.appendingPathComponent("examples/slurm")
    static let manifest = TestSupport.repositoryRoot.appendingPathComponent("examples/kubernetes/tag-corpus-job.yaml").path

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs a program (not `audionet`) with `arguments`.
    func shell(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> TestSupport.CommandResult {
        try TestSupport.run(arguments, environment: environment, program: URL(fileURLWithPath: program))
    }

    @Test func anArrayJobTagsACorpusAsOneProcessDoes() throws {
        let missing = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"].filter { !FileManager.default.isExecutableFile(atPath: $0) }
        guard missing.isEmpty, getuid() == 0 else {
            Issue.record("the Slurm test cannot run here: \(missing.isEmpty ? "it needs root (slurmd starts jobs as their users)" : "missing \(missing.joined(separator: ", ")) (make setup installs slurmctld, slurmd, slurm-client and munge)")")
            return
        }
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so FSDD cannot be found")
            return
        }
        let fsdd = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("data/fsdd").path
        let files = (0..<30).map { "\(fsdd)/\($0 % 10)/\($0 % 10)_lucas_\($0 / 10).wav" }
        try (files.joined(separator: "\n") + "\n").write(toFile: path("corpus.txt"), atomically: true, encoding: .utf8)

        let cluster = Self.examples.appendingPathComponent("single-node-cluster.sh").path
        let started = try shell(cluster, ["start", path("cluster")])
        defer { _ = try? shell(cluster, ["stop", path("cluster")]) }
        #expect(started.status == 0, "\(started.stderr)")
        guard started.status == 0 else { return }
        let slurm = ["SLURM_CONF": path("cluster/slurm.conf"), "AUDIONET": TestSupport.executable.path]
        // Three tasks of one core each (the script's own --array and --cpus-per-task are for a real cluster).
        let job = try shell("/usr/bin/sbatch", ["--wait", "--array=0-2", "--cpus-per-task=1", "--chdir=\(directory.path)",
                                                Self.examples.appendingPathComponent("tag-corpus.sbatch").path, path("corpus.txt")],
                            environment: slurm)
        #expect(job.status == 0, "\(job.stdout) \(job.stderr)")
        var counts: [Int] = []
        for task in 0..<3 {
            let log = (try? String(contentsOfFile: path("tags-\(task).log"), encoding: .utf8)) ?? ""
            let part = (try? String(contentsOfFile: path("tags-\(task).jsonl"), encoding: .utf8)) ?? ""
            counts.append(part.split(separator: "\n").count)
            #expect(log.hasPrefix("shard \(task)/3: \(counts[task]) of 30 audio files"), "task \(task): \(log)")
        }
        #expect(counts.reduce(0, +) == 30 && counts.allSatisfy { $0 > 0 && $0 < 30 }, "\(counts)")
        let merged = try TestSupport.run(["merge", "--files-from", path("corpus.txt")] + (0..<3).map { path("tags-\($0).jsonl") })
        let single = try TestSupport.run(["classify", "--files-from", path("corpus.txt"), "--format", "json", "--clip", "--top", "5"])
        #expect(merged.status == 0 && single.status == 0, "\(merged.stderr) \(single.stderr)")
        #expect(merged.stdout.split(separator: "\n").count == 30 && merged.stdout == single.stdout)
    }

    @Test func theIndexedJobManifestIsAValidKubernetesJobWithOneShardPerIndex() throws {
        let validator = TestSupport.repositoryRoot.appendingPathComponent(".venv-reference/bin/kubernetes-validate").path
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            Issue.record("the manifest cannot be checked here: \(validator) is missing (make venv installs kubernetes-validate)")
            return
        }
        let valid = try shell(validator, ["--strict", Self.manifest])
        #expect(valid.status == 0, "\(valid.stdout) \(valid.stderr)")
        // The validator refuses what the API server would: a misspelt field.
        let text = try String(contentsOfFile: Self.manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "parallelism:", with: "paralelism:").write(toFile: path("misspelt.yaml"), atomically: true, encoding: .utf8)
        #expect(try shell(validator, ["--strict", path("misspelt.yaml")]).status != 0)
        // Pod I of N takes shard I/N: the N of --shard auto/N is the job's completions and parallelism.
        func number(after key: String) -> Int? {
            text.range(of: key + "\\s*(\\d+)", options: .regularExpression).flatMap { Int(text[$0].filter(\.isNumber)) }
        }
        let shards = number(after: "--shard auto/")
        #expect(shards != nil && number(after: "completions:") == shards && number(after: "parallelism:") == shards)
    }
}
