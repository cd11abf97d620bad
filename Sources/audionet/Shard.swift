import Foundation

/// One of N parts of a run's inputs (`--shard I/N`, I counted from 0): an input belongs to shard
/// `FNV-1a(path) mod N`, so every machine of a cluster, given the same list, takes a disjoint part, a rerun takes the
/// same one, and the parts of any N together are the list. `--shard auto` reads the index and count of a Slurm
/// array task (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`); `--shard auto/N` takes the
/// index of a Kubernetes Indexed Job's pod (`JOB_COMPLETION_INDEX`) or of a Slurm array task.
struct Shard: Equatable {
    let index: Int
    let count: Int

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `I/N`, `auto` or `auto/N` against the scheduler variables in `environment`.
    init(parsing text: String, environment: [String: String]) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else { throw CommandError("--shard takes I/N (0 ≤ I < N), auto or auto/N, not '\(text)'") }
        var count: Int?
        if parts.count == 2 {
            guard let n = Int(parts[1]), n > 0 else { throw CommandError("--shard: the shard count must be a positive whole number, not '\(parts[1])'") }
            count = n
        }
        let index: Int
        if parts[0] == "auto" {
            let scheduled = try Self.scheduled(environment)
            if let count, let scheduledCount = scheduled.count, scheduledCount != count {
                throw CommandError("--shard \(text): the Slurm array has \(scheduledCount) tasks, not \(count)")
            }
            guard let total = count ?? scheduled.count else {
                throw CommandError("--shard auto: JOB_COMPLETION_INDEX gives no count; write --shard auto/N (N: the job's completions)")
            }
            (index, count) = (scheduled.index, total)
        } else {
            guard let i = Int(parts[0]), count != nil else { throw CommandError("--shard takes I/N (0 ≤ I < N), auto or auto/N, not '\(text)'") }
            index = i
        }
        guard let count, (0..<count).contains(index) else {
            throw CommandError("--shard \(text): the index must be within 0…\((count ?? 1) - 1) (shards are counted from 0)")
        }
        self.init(index: index, count: count)
    }

    /// The task's index (and, under Slurm, the count) from a Slurm array or a Kubernetes Indexed Job.
    static func scheduled(_ environment: [String: String]) throws -> (index: Int, count: Int?) {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text), value >= 0 else { throw CommandError("--shard auto: \(name)='\(text)' is not a whole number") }
            return value
        }
        if let task = try number("SLURM_ARRAY_TASK_ID") {
            guard let count = try number("SLURM_ARRAY_TASK_COUNT") else { throw CommandError("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not") }
            // `--array=1-8` numbers tasks from 1; a stepped or listed array (`--array=0-15:4`) has no dense index.
            let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            if let step = try number("SLURM_ARRAY_TASK_STEP"), step != 1 {
                throw CommandError("--shard auto needs an array of consecutive tasks (--array=A-B), not one with step \(step)")
            }
            return (task - first, count)
        }
        if let index = try number("JOB_COMPLETION_INDEX") { return (index, nil) }
        throw CommandError("--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set")
    }

    /// Whether `path` falls in this shard.
    func contains(_ path: String) -> Bool { Int(Self.fnv1a(path) % UInt64(count)) == index }

    /// 64-bit FNV-1a of the path's UTF-8 bytes: the same on every machine and every run (Swift's `hashValue` is seeded
    /// per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    var description: String { "\(index)/\(count)" }
}
