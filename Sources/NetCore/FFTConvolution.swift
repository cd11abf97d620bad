import CBLAS
import CFFTW
import Foundation

/// A tall 1-D convolution (a `k×1` kernel over a width-1 image, stride 1, one group) by FFT: each input channel
/// is transformed once, each frequency bin becomes one complex GEMM `[frames × Cin] · [Cin × Cout]` with the
/// conjugated kernel spectra, and each output channel is transformed back. For CREPE's 64-tap layers this is
/// about 16 times fewer multiplies than the direct convolution.
final class FFTConvolution: @unchecked Sendable {
    let inputChannels: Int, outputChannels: Int, taps: Int
    /// Transform length: a power of two covering the padded input (height + taps − 1).
    let length: Int
    var bins: Int { length / 2 + 1 }
    /// Conjugated kernel spectra `[bins, Cin, Cout]`, interleaved complex.
    private let spectra: [Float]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [String: OpaquePointer] = [:]

    /// `weights` are HWIO `[taps, 1, Cin, Cout]`; `height` is the input height the layer sees.
    init(weights: [Float], taps: Int, inputChannels: Int, outputChannels: Int, height: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.taps = taps
        var length = 1
        while length < height + taps - 1 { length *= 2 }
        self.length = length
        let pairs = inputChannels * outputChannels, bins = length / 2 + 1
        var spectra = [Float](repeating: 0, count: 2 * bins * pairs)
        // The spectrum of each (input, output) kernel, all pairs in one strided plan: w[k][pair] at k·pairs + pair.
        var padded = [Float](repeating: 0, count: length * pairs)
        padded.replaceSubrange(0..<(taps * pairs), with: weights[0..<(taps * pairs)])
        let plan = Self.plan(key: "w\(length)x\(pairs)", sizes: (length * pairs, bins * pairs)) { input, output in
            var n = Int32(length)
            return fftwf_plan_many_dft_r2c(1, &n, Int32(pairs), input, nil, Int32(pairs), 1, output, nil, Int32(pairs), 1,
                                           UInt32(FFTW_ESTIMATE))
        }
        padded.withUnsafeMutableBufferPointer { input in
            spectra.withUnsafeMutableBufferPointer { output in
                output.baseAddress!.withMemoryRebound(to: fftwf_complex.self, capacity: bins * pairs) {
                    fftwf_execute_dft_r2c(plan.plan, input.baseAddress!, $0)
                }
            }
        }
        // Cross-correlation is convolution with the conjugate spectrum.
        for index in stride(from: 1, to: spectra.count, by: 2) { spectra[index] = -spectra[index] }
        self.spectra = spectra
    }

    /// A cached FFTW plan (planning is not thread-safe; executing on new arrays is). `make` plans on scratch
    /// arrays of `sizes` (real, complex) elements; FFTW_ESTIMATE leaves them untouched.
    static func plan(key: String, sizes: (real: Int, complex: Int),
                     make: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<fftwf_complex>) -> OpaquePointer?) -> SharedPlan {
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[key] { return SharedPlan(plan: plan) }
        let real = fftwf_alloc_real(sizes.real)!, complex = fftwf_alloc_complex(sizes.complex)!
        defer { fftwf_free(real); fftwf_free(complex) }
        let plan = make(real, complex)!
        plans[key] = plan
        return SharedPlan(plan: plan)
    }

    /// Convolves `frames` NHWC images `[height, 1, Cin]` into raw sums `[outputHeight, 1, Cout]` (no bias).
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, frames: Int, height: Int, outputHeight: Int,
             padTop: Int) {
        let cin = inputChannels, cout = outputChannels, bins = self.bins, n = length
        var inputSpectra = [Float](repeating: 0, count: 2 * bins * frames * cin)    // [bins, frames, Cin]
        var outputSpectra = [Float](repeating: 0, count: 2 * bins * frames * cout)  // [bins, frames, Cout]
        let forward = Self.plan(key: "x\(n)x\(cin)x\(frames)", sizes: (n * cin, bins * frames * cin)) { input, output in
            var size = Int32(n)
            return fftwf_plan_many_dft_r2c(1, &size, Int32(cin), input, nil, Int32(cin), 1, output, nil, Int32(frames * cin), 1,
                                           UInt32(FFTW_ESTIMATE | FFTW_UNALIGNED))
        }
        let backward = Self.plan(key: "y\(n)x\(cout)x\(frames)", sizes: (n * cout, bins * frames * cout)) { output, input in
            var size = Int32(n)
            return fftwf_plan_many_dft_c2r(1, &size, Int32(cout), input, nil, Int32(frames * cout), 1, output, nil, Int32(cout), 1,
                                           UInt32(FFTW_ESTIMATE | FFTW_UNALIGNED))
        }
        inputSpectra.withUnsafeMutableBufferPointer { xs in
            let spectraBase = SharedPointer(xs.baseAddress!), source = SharedReadPointer(input)
            Parallel.forEach(frames) { frame in
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: n * cin)
                defer { padded.deallocate() }
                padded.initialize(repeating: 0, count: n * cin)
                (padded + padTop * cin).update(from: source.base + frame * height * cin, count: height * cin)
                (spectraBase.base + 2 * frame * cin).withMemoryRebound(to: fftwf_complex.self, capacity: 1) {
                    fftwf_execute_dft_r2c(forward.plan, padded, $0)
                }
            }
        }
        _ = GEMM.configure
        inputSpectra.withUnsafeBufferPointer { xs in
            spectra.withUnsafeBufferPointer { ws in
                outputSpectra.withUnsafeMutableBufferPointer { ys in
                    let x = SharedReadPointer(xs.baseAddress!), w = SharedReadPointer(ws.baseAddress!), y = SharedPointer(ys.baseAddress!)
                    Parallel.forEach(bins) { bin in
                        var one: (Float, Float) = (1, 0), zero: (Float, Float) = (0, 0)
                        cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(frames), Int32(cout), Int32(cin), &one,
                                    x.base + 2 * bin * frames * cin, Int32(cin), w.base + 2 * bin * cin * cout, Int32(cout), &zero,
                                    y.base + 2 * bin * frames * cout, Int32(cout))
                    }
                }
            }
        }
        outputSpectra.withUnsafeMutableBufferPointer { ys in
            let spectraBase = SharedPointer(ys.baseAddress!), target = SharedPointer(output)
            let scale = 1 / Float(n)
            Parallel.forEach(frames) { frame in
                let signal = UnsafeMutablePointer<Float>.allocate(capacity: n * cout)
                defer { signal.deallocate() }
                (spectraBase.base + 2 * frame * cout).withMemoryRebound(to: fftwf_complex.self, capacity: 1) {
                    fftwf_execute_dft_c2r(backward.plan, $0, signal)
                }
                let out = target.base + frame * outputHeight * cout
                for i in 0..<(outputHeight * cout) { out[i] = signal[i] * scale }
            }
        }
    }
}

/// An FFTW plan shared by worker threads (executing a plan on new arrays is thread-safe).
struct SharedPlan: @unchecked Sendable {
    let plan: OpaquePointer
}

/// FFT convolutions of one layer by input height, made on first use (a layer does not know its input height
/// until it runs).
final class FFTConvolutionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var byHeight: [Int: FFTConvolution] = [:]

    func convolution(height: Int, make: () -> FFTConvolution) -> FFTConvolution {
        lock.lock()
        defer { lock.unlock() }
        if let existing = byHeight[height] { return existing }
        let made = make()
        byHeight[height] = made
        return made
    }
}
