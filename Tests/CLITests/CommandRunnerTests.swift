import Foundation
import TestSupport
import Testing

/// How the tests run a command (``TestSupport/run(_:environment:standardOutput:memoryLimit:wrapper:program:directory:)``).
@Suite struct CommandRunnerTests {
    /// A child that writes more than a pipe holds (64 KB) to standard error before it closes standard output finishes,
    /// and both streams come back whole: read one after the other, the child waited for the runner, which waited for it
    /// (the emulated kernel tests' progress, 65.5 KB, hung the suite). The run is waited for a minute at most, on a
    /// thread of its own, so that a hang fails the test instead of stopping the suite.
    @Test func aCommandWritingMoreThanAPipeHoldsToStandardErrorFinishes() throws {
        let finished = DispatchSemaphore(value: 0), box = ResultBox()
        Thread.detachNewThread {
            box.result = try? TestSupport.run(["-c", "head -c 200000 /dev/zero | tr '\\0' x >&2; echo done"],
                                              program: URL(fileURLWithPath: "/bin/sh"))
            finished.signal()
        }
        try #require(finished.wait(timeout: .now() + 60) == .success, "the command did not finish within a minute")
        let result = try #require(box.result)
        #expect(result.status == 0)
        #expect(result.stdout == "done\n")
        #expect(result.stderr.count == 200_000 && result.stderr.allSatisfy { $0 == "x" })
    }
}

/// The result of a run on another thread, read after its semaphore.
private final class ResultBox: @unchecked Sendable {
    var result: TestSupport.CommandResult?
}
