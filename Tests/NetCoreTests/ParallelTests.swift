import Foundation
import NetCore
import Testing

@Suite struct ParallelTests {
    /// Every count, granule and thread count gives shares that tile `0..<count` in order, none empty, each
    /// starting on a granule, never more than the threads (a 3-row layer once made a 16-thread split trap).
    @Test func sharesTileTheRangeWithoutEmptyOrInvertedParts() {
        for count in 0...130 {
            for granule in [1, 2, 12, 16] {
                for parts in [1, 2, 3, 7, 16, 64, 200] {
                    let shares = Parallel.shares(of: count, granule: granule, into: parts)
                    let label = "count \(count), granule \(granule), parts \(parts): \(shares)"
                    #expect(shares.count <= parts, "\(label)")
                    #expect(shares.allSatisfy { !$0.isEmpty && $0.lowerBound % granule == 0 }, "\(label)")
                    #expect(shares.first?.lowerBound ?? 0 == 0 && shares.last?.upperBound ?? 0 == count, "\(label)")
                    #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(label)")
                }
            }
        }
    }

    @Test func sharesUseEveryPartWhenThereIsEnoughWork() {
        #expect(Parallel.shares(of: 100, into: 7).count == 7)
        #expect(Parallel.shares(of: 100, granule: 12, into: 64).count == 9, "nine granules of 12")
    }

    /// Counts per item, and the threads that ran them, from any thread.
    final class Record: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var runs: [Int]
        private(set) var threads = Set<UInt>()
        private(set) var nestedEverywhere = true
        init(_ count: Int) { runs = [Int](repeating: 0, count: count) }
        var threadsSeen: Int { lock.withLock { threads.count } }
        func ran(_ index: Int) {
            let nested = Parallel.threadCount == 1, thread = UInt(pthread_self())
            lock.withLock {
                runs[index] += 1
                threads.insert(thread)
                nestedEverywhere = nestedEverywhere && nested
            }
        }
    }

    /// Loops started from several threads at once (one runs on the pool, the others on their callers) and loops of
    /// fewer and more items than threads each run every item once, with the loop's items seeing a thread count of 1
    /// (work they start stays on their thread).
    @Test func everyItemRunsOnceFromSeveralCallersAtOnce() {
        let counts = [2, 3, 17, 1000], callers = 6
        let records = (0..<callers * counts.count).map { Record(counts[$0 % counts.count]) }
        DispatchQueue.concurrentPerform(iterations: records.count) { caller in
            let record = records[caller]
            Parallel.forEach(record.runs.count) { record.ran($0) }
        }
        for (caller, record) in records.enumerated() {
            #expect(record.runs.allSatisfy { $0 == 1 }, "caller \(caller): \(record.runs.count) items")
            #expect(record.nestedEverywhere, "caller \(caller): an item saw more than one thread")
        }
    }

    /// The pool's workers join a loop: while an item waits (up to a second: a worker wakes slowly under emulation on a
    /// busy machine) for an item on another thread, a worker takes one. A loop started while another test's loop holds
    /// the pool runs on its caller alone, so the loop is tried up to 120 times (40 were too few once under qemu's Haswell,
    /// the emulated kernel tests holding the pool beside it).
    @Test(.enabled(if: Parallel.threadCount > 1, "one core: the pool has no workers to check"))
    func aWorkerJoinsWhileTheCallerWaits() {
        var joined = false
        for _ in 0..<120 where !joined {
            let record = Record(4), deadline = Date().addingTimeInterval(1)
            Parallel.forEach(4) { index in
                record.ran(index)
                while record.threadsSeen < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.0005) }
            }
            #expect(record.runs.allSatisfy { $0 == 1 })
            joined = record.threadsSeen > 1
        }
        #expect(joined, "no worker took an item in 120 loops")
    }

    /// A SIMD level set on one thread (a test comparing a kernel's bodies) reaches the items of its parallel loops on
    /// the pool's workers, and no other thread (a test running beside it): levels are per thread.
    @Test(.enabled(if: Parallel.threadCount > 1, "one core: the pool has no workers to check"))
    func aThreadsSIMDLevelReachesItsLoopsOnWorkersAndNoOtherThread() {
        let processLevel = CPU.level, lowered = processLevel == 0 ? 1 : 0
        var workerSeen = false
        for _ in 0..<40 where !workerSeen {
            let levels = Levels(), deadline = Date().addingTimeInterval(1)
            CPU.withLevel(lowered) {
                let other = DispatchSemaphore(value: 0)
                Thread { levels.record(CPU.level, onWorker: true, other: true); other.signal() }.start()
                other.wait()
                let caller = UInt(pthread_self())
                Parallel.forEach(4) { _ in
                    levels.record(CPU.level, onWorker: UInt(pthread_self()) != caller)
                    while !levels.workerRan && Date() < deadline { Thread.sleep(forTimeInterval: 0.0005) }
                }
            }
            #expect(levels.other == [processLevel], "another thread keeps the process's level")
            #expect(levels.items.allSatisfy { $0 == lowered } && levels.items.count == 4, "\(levels.items)")
            #expect(CPU.level == processLevel, "the level is restored")
            workerSeen = levels.workerRan
        }
        #expect(workerSeen, "no worker took an item in 40 loops")
    }

    final class Levels: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var items: [Int] = [], other: [Int] = [], workerRan = false
        func record(_ level: Int, onWorker: Bool, other isOther: Bool = false) {
            lock.withLock {
                if isOther { other.append(level) } else { items.append(level); workerRan = workerRan || onWorker }
            }
        }
    }
}

@Suite struct MemoTests {
    /// Threads asking for the same keys at once all get the value made first, and each key's value is made once.
    @Test func eachKeysValueIsMadeOnceWhateverThreadsAsk() {
        let memo = Memo<Int, [Int]>(), made = Counter()
        let seen = (0..<64).map { _ in Counter() }
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let key = index % 4
            let value = memo.value(for: key) { made.add(1); return [key, Int.random(in: 0..<1_000_000)] }
            seen[index].add(value[1])
        }
        #expect(made.value == 4)
        for key in 0..<4 {
            let values = Set(stride(from: key, to: 64, by: 4).map { seen[$0].value })
            #expect(values.count == 1, "key \(key) gave \(values)")
        }
    }
}

/// An integer several threads add to.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ amount: Int) { lock.withLock { total += amount } }
    var value: Int { lock.withLock { total } }
}
