import CBLAS

/// OpenBLAS runs on one thread: AudioNet splits every product over its own workers (``Parallel``). It is set before
/// the first product of any caller, the network's or a front end's: OpenBLAS's default of a thread per core splits a
/// product differently, so a front end's first product (OpenL3's mel projection) came out different in the last bits
/// before a network had run than after.
public enum BLASThreads {
    /// Sets OpenBLAS to one thread, once per process.
    public static let configure: Void = { openblas_set_num_threads(1) }()
}
