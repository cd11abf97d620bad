import Base

/// A front end's examples of a signal given a block at a time, bit for bit the examples of the whole signal, holding
/// only what the next example needs: log-mel patches (``LogMelPatchStream``) or windows of the signal.
public protocol ExampleStream {
    /// Samples given so far.
    var signalLength: Int { get }
    /// Takes the next samples and returns the examples `[n, …]` they complete (possibly none).
    mutating func append(_ block: [Float]) -> Tensor
    /// The examples left once the signal has ended.
    mutating func finish() -> Tensor
    /// Example `index`'s time in seconds, as the whole signal's examples give it.
    func time(ofExample index: Int) -> Double
}

extension LogMelPatchStream: ExampleStream {
    public func time(ofExample index: Int) -> Double {
        Double(index) * (Double(frontEnd.patchHop) * (Double(frontEnd.hopLength) / Double(frontEnd.sampleRate)))
    }
}
