import ArgumentParser
import AudioNet
import Foundation

extension Precision: ExpressibleByArgument {}

extension Precision {
    /// Warns on stderr when int8 will run the portable kernel (no VNNI here), which is slower than float32.
    func warnIfSlowHere() {
        guard self == .int8, !CPU.int8UsesVNNI else { return }
        FileHandle.standardError.write(Data("warning: this processor has no VNNI (AVX-512 VNNI or AVX-VNNI); int8 runs a portable kernel, slower than float32\n".utf8))
    }
}
