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
}
