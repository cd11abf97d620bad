import ArgumentParser
import AudioNet
import Foundation

extension Precision: ExpressibleByArgument {}

extension Precision {
    /// Warns on stderr when int8 will run the portable kernel (no AVX2 or VNNI here), which is slower than float32.
    func warnIfSlowHere() {
        guard self == .int8, !CPU.int8HasSIMDBody else { return }
        FileHandle.standardError.write(Data("warning: this processor has neither AVX2 nor VNNI; int8 runs a portable kernel, slower than float32\n".utf8))
    }
}
